"""Shell completion (kubectl_complete-inject): the completion function itself, and end to end
through the real kubectl, which runs `kubectl_complete-inject <args...> <word>` from PATH when
the user completes `kubectl inject ...` (kubectl 1.26+)."""
from __future__ import annotations

import argparse
import json
import os
import stat
import subprocess
import sys

import pytest

from inject_testkit import ROOT, VENV_BIN
from kubectl_inject import cli, completion, config_cmd, flags
from kubectl_inject.config_source import builtin_versions
from kubectl_inject.flags import CLUSTER_FLAGS
from kubectl_inject.releases import PROFILES

NO_FILE_COMP, DEFAULT, FILTER_FILE_EXT, FILTER_DIRS = 4, 0, 8, 16

KUBECONFIG = """\
apiVersion: v1
kind: Config
current-context: beta
clusters:
- name: lab
  cluster: {server: "https://127.0.0.1:6443"}
contexts:
- name: alpha
  context: {cluster: lab, user: me}
- name: beta
  context: {cluster: lab, user: me, namespace: istio-system}
users:
- name: me
  user: {token: not-a-secret}
"""
OTHER_KUBECONFIG = """\
apiVersion: v1
kind: Config
contexts:
- name: gamma
  context: {cluster: far, user: me}
"""


def names(candidates) -> list:
    return [line.split("\t")[0] for line in candidates]


def described(candidates) -> dict:
    return dict(line.split("\t", 1) if "\t" in line else (line, "") for line in candidates)


@pytest.fixture
def kubeconfigs(tmp_path, monkeypatch):
    """$KUBECONFIG: two contexts (alpha, beta, current beta); other.yaml: gamma; HOME empty."""
    main = tmp_path / "kubeconfig.yaml"
    main.write_text(KUBECONFIG)
    other = tmp_path / "other.yaml"
    other.write_text(OTHER_KUBECONFIG)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("KUBECONFIG", str(main))
    return {"main": main, "other": other, "home": home}


# --- flags ---------------------------------------------------------------------------------------

def test_a_dash_offers_every_flag_of_the_command_with_its_help():
    candidates, directive = completion.complete(["-"])
    declared = [f for f in flags.INJECT_FLAGS + CLUSTER_FLAGS]
    expected = {name: " ".join(f.help.split()) for f in declared for name in f.names}
    expected.update({"-h": "show this help message and exit", "--help": "show this help message and exit"})
    assert described(candidates) == expected
    assert directive == NO_FILE_COMP
    assert {"-f", "--filename", "-o", "-r", "-i", "--version", "--istio-version"} <= set(names(candidates))


def test_completion_knows_exactly_the_flags_of_the_commands_parser():
    """Each flag of cli.build_parser (argparse, the parser of record), with the same help and
    the same arity, and no other."""
    parser = cli.build_parser()
    real = {tuple(a.option_strings): (a.nargs == 0, a.help) for a in parser._actions}
    mine = {f.names: (f.action == "switch", f.help) for f in completion.main_flags()}
    assert mine == real


def test_a_prefix_selects_the_flags_it_starts():
    candidates, directive = completion.complete(["--i"])
    assert sorted(names(candidates)) == ["--in-place", "--injectConfigFile", "--istio-version", "--istioNamespace"]
    assert directive == NO_FILE_COMP
    assert names(completion.complete(["-f", "a.yaml", "--con"])[0]) == ["--context"]


def test_a_flag_already_given_is_not_offered_again_unless_it_repeats():
    candidates = names(completion.complete(["--offline", "-f", "a.yaml", "-o", "out.yaml", "--"])[0])
    assert "--offline" not in candidates and "--output" not in candidates
    assert "--filename" in candidates  # -f is repeatable
    assert "--explain" in candidates


# --- subcommands ---------------------------------------------------------------------------------

def test_subcommands_are_offered_as_the_first_word_only():
    candidates, directive = completion.complete([""])
    assert names(candidates) == ["config", "version"] and directive == NO_FILE_COMP
    assert names(completion.complete(["c"])[0]) == ["config"]
    assert completion.complete(["-f", "a.yaml", ""]) == ([], NO_FILE_COMP)
    assert completion.complete(["--offline", "con"]) == ([], NO_FILE_COMP)
    assert completion.complete(["version", ""]) == ([], NO_FILE_COMP)
    assert completion.complete(["version", "--"]) == ([], NO_FILE_COMP)


def test_config_subcommands_and_their_flags():
    candidates, directive = completion.complete(["config", ""])
    assert names(candidates) == ["pull", "show"] and directive == NO_FILE_COMP
    pull = names(completion.complete(["config", "pull", "-"])[0])
    show = names(completion.complete(["config", "show", "-"])[0])
    assert "-o" in pull and "--output" in pull and "--injectConfigFile" not in pull
    assert "--injectConfigFile" in show and "--output" not in show and "-f" not in show
    assert {"--context", "--kubeconfig", "-r", "--offline"} <= set(pull) & set(show)
    assert completion.complete(["config", "bogus", ""]) == ([], NO_FILE_COMP)
    assert names(completion.complete(["config", "-"])[0]) == ["-h", "--help"]


def test_config_subcommands_match_config_cmds_parser():
    """The subcommands, their help and each one's flags (names and arity) are config_cmd's."""
    parser = config_cmd._parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert {a.dest: a.help for a in subparsers._choices_actions} == flags.CONFIG_ACTIONS
    for action, subparser in subparsers.choices.items():
        real = {tuple(a.option_strings): a.nargs == 0 for a in subparser._actions}
        mine = {f.names: f.action == "switch" for f in completion.config_flags(action)}
        assert mine == real, action


# --- flag values ---------------------------------------------------------------------------------

@pytest.mark.parametrize("args", [["-f", ""], ["--filename", "de"], ["--filename="], ["-f="],
                                  ["-Rf", ""], ["--file", ""], ["-f", "a.yaml", "-f", ""]])
def test_input_files_are_completed_as_kubectl_apply_f_does(args):
    assert completion.complete(args) == (["yaml", "yml", "json"], FILTER_FILE_EXT)
    assert ["." + ext for ext in completion.complete(args)[0]] == list(flags.INPUT_SUFFIXES)


@pytest.mark.parametrize("flag", ["-o", "--output", "--injectConfigFile", "--valuesFile", "--meshConfigFile",
                                  "--kubeconfig"])
def test_file_flags_leave_it_to_the_shells_file_completion(flag):
    assert completion.complete([flag, ""]) == ([], DEFAULT)
    assert completion.complete([flag + "=x"]) == ([], DEFAULT)


def test_config_pull_output_is_a_directory():
    assert completion.complete(["config", "pull", "-o", ""]) == ([], FILTER_DIRS)
    assert completion.complete(["config", "pull", "--output=out"]) == ([], FILTER_DIRS)
    assert completion.complete(["config", "show", "--valuesFile", ""]) == ([], DEFAULT)


@pytest.mark.parametrize("args", [["-r", ""], ["--revision", "ca"], ["-i", ""], ["--istioNamespace="],
                                  ["--timeout", ""], ["config", "pull", "--revision", ""]])
def test_cluster_side_values_are_not_guessed(args):
    assert completion.complete(args) == ([], NO_FILE_COMP)


def test_istio_versions_are_the_builtin_configs_and_the_release_profiles():
    candidates, directive = completion.complete(["--istio-version", ""])
    expected = set(builtin_versions()) | {f"{major}.{minor}" for major, minor in PROFILES}
    assert set(names(candidates)) == expected and directive == NO_FILE_COMP
    assert {"1.22.0", "1.30.4", "1.22", "1.30"} <= expected
    assert "built-in" in described(candidates)["1.30.4"]
    assert "--injectConfigFile" in described(candidates)["1.25"]
    assert names(completion.complete(["--istio-version=1.30"])[0]) == ["1.30", "1.30.4"]
    assert names(completion.complete(["config", "show", "--istio-version", "1.22"])[0]) == ["1.22", "1.22.0"]


def test_after_double_dash_there_are_no_flags():
    assert completion.complete(["--", "--con"]) == ([], NO_FILE_COMP)
    assert completion.complete(["--", "-f", ""]) == ([], NO_FILE_COMP)


@pytest.mark.parametrize("args", [["--bogus="], ["--offline="], ["--bogus", ""]])
def test_unknown_flags_and_switches_with_values_get_nothing(args):
    assert completion.complete(args)[0] == []


def test_a_leading_complete_word_is_dropped():
    assert completion.complete(["__complete", "--con"]) == completion.complete(["--con"])
    assert completion.complete([]) == completion.complete([""])


# --- contexts ------------------------------------------------------------------------------------

def test_contexts_of_kubeconfig_env(kubeconfigs):
    candidates, directive = completion.complete(["--context", ""])
    assert described(candidates) == {"alpha": "cluster lab", "beta": "current context, cluster lab"}
    assert directive == NO_FILE_COMP
    assert names(completion.complete(["--context", "a"])[0]) == ["alpha"]
    assert names(completion.complete(["--context=b"])[0]) == ["beta"]
    assert names(completion.complete(["config", "pull", "--context", ""])[0]) == ["alpha", "beta"]


@pytest.mark.parametrize("args", [["--kubeconfig", "{other}"], ["--kubeconfig={other}"], ["--kubec", "{other}"],
                                  ["--kubeconfig", "{main}", "--kubeconfig", "{other}"]])
def test_the_kubeconfig_flag_on_the_line_wins(kubeconfigs, args):
    args = [a.format(**kubeconfigs) for a in args]
    assert names(completion.complete(args + ["--context", ""])[0]) == ["gamma"]
    assert names(completion.complete(args + ["--cont", ""])[0]) == ["gamma"]  # an abbreviation


def test_kubeconfig_flag_with_a_tilde(kubeconfigs):
    (kubeconfigs["home"] / "mine.yaml").write_text(OTHER_KUBECONFIG)
    assert names(completion.complete(["--kubeconfig", "~/mine.yaml", "--context", ""])[0]) == ["gamma"]


def test_kubeconfig_env_files_are_merged_and_missing_ones_skipped(kubeconfigs, monkeypatch, tmp_path):
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join([str(kubeconfigs["main"]), str(tmp_path / "absent"),
                                                      str(kubeconfigs["other"])]))
    assert names(completion.complete(["--context", ""])[0]) == ["alpha", "beta", "gamma"]


def test_home_kubeconfig_without_kubeconfig_env(kubeconfigs, monkeypatch):
    monkeypatch.delenv("KUBECONFIG")
    assert completion.complete(["--context", ""]) == ([], NO_FILE_COMP)  # no ~/.kube/config
    (kubeconfigs["home"] / ".kube").mkdir()
    (kubeconfigs["home"] / ".kube" / "config").write_text(OTHER_KUBECONFIG)
    assert names(completion.complete(["--context", ""])[0]) == ["gamma"]


@pytest.mark.parametrize("content", [
    b"contexts: [unclosed\n", b"- just\n- a list\n", b"", b"\xff\xfe not utf-8", b"contexts: [{context: {}}]\n",
    b"contexts: 3\n", b"!!python/object/apply:os.system [echo owned]\n", None, "directory"])
def test_an_unusable_kubeconfig_gives_no_candidates(kubeconfigs, monkeypatch, tmp_path, content):
    path = tmp_path / "broken"
    if content == "directory":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    monkeypatch.setenv("KUBECONFIG", str(path))
    assert completion.complete(["--context", ""]) == ([], NO_FILE_COMP)
    assert completion.complete(["--kubeconfig", str(path), "--context", ""]) == ([], NO_FILE_COMP)


def test_a_context_name_a_line_cannot_carry_is_left_out(kubeconfigs):
    kubeconfigs["main"].write_text('contexts:\n- name: "two\\nlines"\n- name: "tab\\there"\n- name: ok\n')
    assert completion.complete(["--context", ""]) == (["ok"], NO_FILE_COMP)


# --- the program ---------------------------------------------------------------------------------

def test_entry_prints_candidates_then_the_directive(monkeypatch, capfd):
    monkeypatch.setattr(sys, "argv", ["kubectl_complete-inject", "--con"])
    completion.entry()
    out, err = capfd.readouterr()
    assert out == "--context\tkubeconfig context to use\n:4\n" and err == ""


def test_entry_answers_default_and_nothing_else_on_any_error(monkeypatch, capfd):
    def broken(args):
        raise RuntimeError("a bug")
    monkeypatch.setattr(completion, "complete", broken)
    monkeypatch.setattr(sys, "argv", ["kubectl_complete-inject", "--con"])
    completion.entry()
    assert capfd.readouterr() == (":0\n", "")


PROBE = """\
import json, sys
sys.argv[1:] = json.loads(sys.argv[1])
from kubectl_inject.completion import entry
entry()
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def run_probe(args, env=None):
    result = subprocess.run([sys.executable, "-c", PROBE, json.dumps(args)], capture_output=True, text=True,
                            timeout=60, cwd=os.path.join(ROOT, "plugin"), env=env)
    return result.stdout, set(json.loads(result.stderr))


def test_completion_loads_neither_the_injector_nor_argparse():
    out, modules = run_probe(["--"])
    assert out.startswith("--filename\t") and out.endswith("\n:4\n")
    assert not {"kubectl_inject.cli", "kubectl_inject.inject", "kubectl_inject.gotypes.schema",
                "kubectl_inject.kubeapi", "argparse", "yaml"} & modules


def test_completing_contexts_loads_the_kubeconfig_reader_only(kubeconfigs):
    out, modules = run_probe(["--context", ""], env=dict(os.environ))
    assert out == "alpha\tcluster lab\nbeta\tcurrent context, cluster lab\n:4\n"
    assert {"kubectl_inject.kubeapi", "yaml"} <= modules
    assert not {"kubectl_inject.cli", "kubectl_inject.inject", "argparse"} & modules


# --- end to end, through kubectl -----------------------------------------------------------------

WRAPPER = """\
#!{python}
import sys
sys.path.insert(0, {plugin!r})
from kubectl_inject.{module} import entry
entry()
"""


def _write_wrapper(path, module):
    path.write_text(WRAPPER.format(python=sys.executable, plugin=os.path.join(ROOT, "plugin"), module=module))
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


@pytest.fixture(params=["checkout", "installed"])
def on_path(request, tmp_path, kubectl):
    """A PATH directory with kubectl-inject and kubectl_complete-inject: wrappers running this
    checkout's package, or the console scripts `pip install` made in the venv (when present)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, module in (("kubectl-inject", "launch"), ("kubectl_complete-inject", "completion")):
        installed = os.path.join(VENV_BIN, name)
        if request.param == "installed":
            if not os.path.exists(installed):
                pytest.skip(f"{installed} not installed (pip install -e . makes it)")
            os.symlink(installed, bin_dir / name)
        else:
            _write_wrapper(bin_dir / name, module)
    home = tmp_path / "home"
    home.mkdir()
    kubeconfig = tmp_path / "kubeconfig.yaml"
    kubeconfig.write_text(KUBECONFIG)
    (tmp_path / "other.yaml").write_text(OTHER_KUBECONFIG)
    env = {"PATH": str(bin_dir) + os.pathsep + os.defpath, "HOME": str(home), "KUBECONFIG": str(kubeconfig)}

    def complete(*words, command="__complete"):
        result = subprocess.run([kubectl, command, *words], capture_output=True, text=True, env=env,
                                cwd=tmp_path, timeout=60)
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr
        lines = result.stdout.splitlines()
        return lines[:-1], lines[-1]
    return complete


def test_kubectl_offers_the_plugin_itself(on_path):
    candidates, _ = on_path("inj")
    assert "inject" in names(candidates)


def test_kubectl_completes_flag_names(on_path):
    assert on_path("inject", "--con") == (["--context\tkubeconfig context to use"], ":4")
    assert on_path("inject", "--con", command="__completeNoDesc") == (["--context"], ":4")
    candidates, directive = on_path("inject", "-f", "pod.yaml", "-")
    assert {"-o", "--output", "-r", "--istio-version", "--filename"} <= set(names(candidates)) and directive == ":4"


def test_kubectl_completes_contexts_of_the_kubeconfig(on_path):
    candidates, directive = on_path("inject", "--context", "")
    assert names(candidates) == ["alpha", "beta"] and directive == ":4"
    assert names(on_path("inject", "-f", "x.yaml", "--context=b")[0]) == ["beta"]
    assert names(on_path("inject", "--kubeconfig", "other.yaml", "--context", "")[0]) == ["gamma"]


def test_kubectl_gets_no_candidates_and_no_traceback_from_a_broken_kubeconfig(on_path, tmp_path):
    (tmp_path / "broken.yaml").write_text("contexts: [unclosed\n")
    assert on_path("inject", "--kubeconfig", "broken.yaml", "--context", "") == ([], ":4")


def test_kubectl_completes_input_files_as_it_does_for_apply(on_path):
    ours = on_path("inject", "-f", "")
    theirs = on_path("apply", "-f", "")
    assert ours[1] == theirs[1] == ":8"
    assert sorted(ours[0]) == sorted(theirs[0]) == ["json", "yaml", "yml"]


def test_kubectl_completes_files_directories_and_versions(on_path):
    assert on_path("inject", "-o", "") == ([], ":0")
    assert on_path("inject", "config", "pull", "-o", "") == ([], ":16")
    assert on_path("inject", "-r", "") == ([], ":4")
    assert names(on_path("inject", "--istio-version", "1.30")[0]) == ["1.30", "1.30.4"]


def test_kubectl_completes_subcommands(on_path):
    assert names(on_path("inject", "")[0]) == ["config", "version"]
    assert on_path("inject", "config", "")[0] == [
        "pull\tsave the cluster's templates, values and mesh config to a directory",
        "show\tsay where the config in effect comes from"]
