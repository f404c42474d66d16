"""The command line: istioctl-compatible flags, inputs and outputs, and one-line errors."""
from __future__ import annotations

import os
import subprocess

import pytest

from inject_testkit import NGINX_POD, ROOT, VENV_BIN


def assert_one_line_error(result, *words):
    assert result.returncode == 1, result.stderr
    assert result.stdout == "", "no partial output on error"
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    for word in words:
        assert word.lower() in lines[0].lower(), lines[0]
    assert "Traceback" not in result.stderr


def test_help_shows_flags_and_examples(run_inject):
    result = run_inject("--help")
    assert result.returncode == 0
    for flag in ("-f FILENAME, --filename FILENAME", "-o OUTPUT, --output OUTPUT", "--injectConfigFile",
                 "--valuesFile", "--meshConfigFile", "-r REVISION, --revision REVISION", "examples:"):
        assert flag in result.stdout


@pytest.mark.parametrize("argv", [("--version",), ("version",), ("-f", "nowhere.yaml", "--version")])
def test_version_names_the_package_the_checkout_and_the_releases(run_inject, argv):
    from importlib import metadata

    from kubectl_inject.config_source import builtin_versions
    result = run_inject(*argv)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    first, releases, builtin = result.stdout.splitlines()
    assert first.startswith(f"kubectl inject {metadata.version('kubectl-inject')} (Python ")
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True)
    if commit.returncode == 0:  # tests run from a checkout: the commit is named
        assert f"git {commit.stdout.strip()}" in first
    assert "Istio 1.22 to 1.30" in releases
    assert builtin.endswith(", ".join(builtin_versions())) and "1.30.4" in builtin


def test_version_outside_a_checkout_names_no_commit(tmp_path):
    from kubectl_inject.version import checkout_commit
    # A package directory that is not plugin/kubectl_inject of a checkout (an installed copy inside
    # some other git work tree) reports no commit, whatever git would say there.
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "pyproject.toml").write_text("")
    installed = tmp_path / "lib" / "site-packages" / "kubectl_inject"
    installed.mkdir(parents=True)
    assert checkout_commit(str(installed), "plugin/kubectl_inject") is None
    if os.path.exists(os.path.join(ROOT, ".git")):
        assert checkout_commit(os.path.join(ROOT, "plugin", "kubectl_inject"), "plugin/kubectl_inject")


def test_version_subcommand_takes_no_arguments(run_inject):
    assert_one_line_error(run_inject("version", "extra"), "unrecognized arguments: extra")


def test_lab_pod_is_injected(run_inject, golden_config, tmp_path):
    pod = tmp_path / "nginx-pod.yaml"
    pod.write_text(NGINX_POD)
    result = run_inject("-f", str(pod), *golden_config)
    assert result.returncode == 0, result.stderr
    # Istio's golden config has the image tag `latest`: the release comes from its sidecar
    # template (Istio 1.22.0's), said in one notice line.
    assert result.stderr.splitlines() == [
        "kubectl inject: the injector config names no Istio release (image tag 'latest'); reproducing "
        "istioctl 1.22.0, from its sidecar template, Istio 1.22.0's; --istio-version chooses another"]
    assert "- proxy\n    - sidecar\n    - --domain\n    - $(POD_NAMESPACE).svc.cluster.local" in result.stdout
    assert "- istio-iptables\n    - -p\n    - \"15001\"\n    - -z\n    - \"15006\"\n    - -u\n    - \"1337\"" in result.stdout
    assert result.stdout.endswith("---\n")


def test_missing_file(run_inject, golden_config):
    assert_one_line_error(run_inject("-f", "/nonexistent/pod.yaml", *golden_config), "/nonexistent/pod.yaml")


def test_unreadable_file(run_inject, golden_config, tmp_path):
    bad = tmp_path / "binary.yaml"
    bad.write_bytes(b"\xff\xfe\x00garbage")
    assert_one_line_error(run_inject("-f", str(bad), *golden_config), "binary.yaml")


def test_malformed_yaml(run_inject, golden_config, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: [unclosed\n")
    assert_one_line_error(run_inject("-f", str(bad), *golden_config), "yaml")


def test_document_that_is_not_an_object(run_inject, golden_config):
    assert_one_line_error(run_inject("-f", "-", *golden_config, stdin="just a string\n"), "not a Kubernetes object")


def test_wrongly_typed_field(run_inject, golden_config):
    pod = NGINX_POD.replace("  containers:\n", "  hostNetwork: maybe\n  containers:\n")
    assert_one_line_error(run_inject("-f", "-", *golden_config, stdin=pod), "hostNetwork")


def _with_file(golden_config, flag, path):
    args = list(golden_config)
    args[args.index(flag) + 1] = str(path)
    return args


def test_broken_template(run_inject, golden_config, tmp_path):
    template = tmp_path / "template.yaml"
    template.write_text("templates:\n  sidecar: |\n    spec:\n      containers:\n      - name: {{ .Broken\n")
    result = run_inject("-f", "-", *_with_file(golden_config, "--injectConfigFile", template), stdin=NGINX_POD)
    assert_one_line_error(result, "template: sidecar:", "unclosed action", "sidecar:3")


def test_template_execution_error_names_position(run_inject, golden_config, tmp_path):
    template = tmp_path / "template.yaml"
    template.write_text("templates:\n  sidecar: |\n    metadata:\n      labels:\n        x: {{ .NoSuchField }}\n")
    result = run_inject("-f", "-", *_with_file(golden_config, "--injectConfigFile", template), stdin=NGINX_POD)
    assert_one_line_error(result, "sidecar:3:", "NoSuchField")


def test_broken_values(run_inject, golden_config, tmp_path):
    values = tmp_path / "values.json"
    values.write_text('{"global": {"hub": ')
    assert_one_line_error(run_inject("-f", "-", *_with_file(golden_config, "--valuesFile", values), stdin=NGINX_POD),
                          "values")


def test_broken_mesh_config(run_inject, golden_config, tmp_path):
    mesh = tmp_path / "mesh.yaml"
    mesh.write_text("defaultConfig:\n  concurrency: lots\n")
    assert_one_line_error(run_inject("-f", "-", *_with_file(golden_config, "--meshConfigFile", mesh), stdin=NGINX_POD),
                          "mesh")


def test_output_file_is_written_atomically_over_the_input(run_inject, golden_config, tmp_path):
    pod = tmp_path / "nginx-pod.yaml"
    pod.write_text(NGINX_POD)
    expected = run_inject("-f", str(pod), *golden_config).stdout
    result = run_inject("-f", str(pod), "-o", str(pod), *golden_config)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert pod.read_text() == expected
    assert [p.name for p in tmp_path.iterdir()] == ["nginx-pod.yaml"], "no temporary files left"


def test_failed_run_leaves_output_file_alone(run_inject, golden_config, tmp_path):
    out = tmp_path / "out.yaml"
    out.write_text("precious\n")
    result = run_inject("-f", "-", "-o", str(out), *golden_config, stdin="- not an object\n")
    assert result.returncode == 1
    assert out.read_text() == "precious\n"


def test_several_inputs_and_directories(run_inject, golden_config, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "nested").mkdir()
    (tmp_path / "a" / "one.yaml").write_text(NGINX_POD)
    (tmp_path / "a" / "nested" / "two.yml").write_text(NGINX_POD.replace("mywebserver", "second"))
    (tmp_path / "a" / "notes.txt").write_text("ignored")
    single = run_inject("-f", str(tmp_path / "a" / "one.yaml"), *golden_config).stdout
    flat = run_inject("-f", str(tmp_path / "a"), *golden_config)
    assert flat.returncode == 0 and flat.stdout == single
    deep = run_inject("-f", str(tmp_path / "a"), "-R", *golden_config)
    assert deep.returncode == 0 and deep.stdout.count("name: istio-proxy") == 2
    both = run_inject("-f", str(tmp_path / "a" / "one.yaml"), "-f", str(tmp_path / "a" / "nested" / "two.yml"), *golden_config)
    assert both.stdout == deep.stdout


def test_in_place_failure_halfway_changes_nothing(run_inject, golden_config, tmp_path):
    good, bad = tmp_path / "1-good.yaml", tmp_path / "2-bad.yaml"
    good.write_text(NGINX_POD)
    bad.write_text(NGINX_POD.replace("hostNetwork", "x") + "---\n[1, 2]\n")
    result = run_inject("--in-place", "-f", str(tmp_path), *golden_config)
    assert_one_line_error(result, "2-bad.yaml")
    assert good.read_text() == NGINX_POD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["1-good.yaml", "2-bad.yaml"]


def test_in_place_rewrites_each_file(run_inject, golden_config, tmp_path):
    one, two = tmp_path / "one.yaml", tmp_path / "two.yaml"
    one.write_text(NGINX_POD)
    two.write_text(NGINX_POD.replace("mywebserver", "other"))
    expected_one = run_inject("-f", str(one), *golden_config).stdout
    result = run_inject("--in-place", "-f", str(one), "-f", str(two), *golden_config)
    assert result.returncode == 0, result.stderr
    assert one.read_text() == expected_one
    assert "name: istio-proxy" in two.read_text() and "name: other" in two.read_text()


def _plugin_path_env():
    return dict(os.environ, PATH=ROOT + os.pathsep + VENV_BIN + os.pathsep + os.environ.get("PATH", ""))


def test_kubectl_discovers_the_plugin(kubectl):
    env = _plugin_path_env()
    listed = subprocess.run([kubectl, "plugin", "list"], capture_output=True, text=True, env=env, timeout=60)
    assert "kubectl-inject" in listed.stdout
    help_result = subprocess.run([kubectl, "inject", "--help"], capture_output=True, text=True, env=env, timeout=60)
    assert help_result.returncode == 0, help_result.stderr
    assert "-f FILENAME, --filename FILENAME" in help_result.stdout


@pytest.mark.cluster
def test_kubectl_run_dry_run_piped_into_inject(kubectl, golden_config, cluster_kubeconfig):
    """The lab's first two steps through the real kubectl; `kubectl run --dry-run=client` needs
    an API server for discovery, so this runs against the lab cluster."""
    env = dict(_plugin_path_env(), KUBECONFIG=cluster_kubeconfig)
    pod = subprocess.run([kubectl, "run", "mywebserver", "--image", "nginx", "--dry-run=client", "-oyaml"],
                         capture_output=True, text=True, env=env, timeout=60, check=True).stdout
    injected = subprocess.run([kubectl, "inject", "-f", "-", *golden_config], input=pod,
                              capture_output=True, text=True, env=env, timeout=60)
    assert injected.returncode == 0, injected.stderr
    out = injected.stdout
    assert "name: istio-proxy" in out and "name: istio-init" in out and "name: mywebserver" in out
    assert "- proxy\n    - sidecar\n    - --domain\n    - $(POD_NAMESPACE).svc.cluster.local" in out
    assert ("- istio-iptables\n    - -p\n    - \"15001\"\n    - -z\n    - \"15006\"\n    - -u\n    - \"1337\"\n"
            "    - -m\n    - REDIRECT\n") in out


def test_the_command_runs_with_the_package_frozen_and_young_objects_collected_rarely():
    """launch.entry: the loaded package is out of every collection (gc.freeze) and the collector
    runs every GC_YOUNG_THRESHOLD allocations, not Python's 700 (start-up time, issue 12)."""
    import sys
    probe = ("import gc, sys\n"
             "from kubectl_inject import cli, launch\n"
             "cli.entry = lambda: print(gc.get_threshold()[0], gc.isenabled(), gc.get_freeze_count() > 1000)\n"
             "launch.entry()\n")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60,
                            env=dict(os.environ, PYTHONPATH=os.path.join(ROOT, "plugin")))
    from kubectl_inject.launch import GC_YOUNG_THRESHOLD
    assert result.stdout.split() == [str(GC_YOUNG_THRESHOLD), "True", "True"], result.stderr


# cli.entry leaves with os._exit, skipping the interpreter's teardown, only when that teardown
# would have nothing to run. Each case starts entry() in a fresh interpreter with one thing set up
# before it: an object whose finalizer would print at teardown, an atexit callback, a thread.
ENTRY_CASE = """\
import atexit, sys, threading, time
from kubectl_inject.cli import entry
case = sys.argv.pop(1)
if case == "finalizer":
    class Finalized:
        def __del__(self):
            print("teardown ran", file=sys.stderr)
    kept = Finalized()
elif case == "atexit":
    atexit.register(lambda: print("atexit ran", file=sys.stderr))
elif case == "thread":
    def late():
        time.sleep(0.5)
        print("thread finished", file=sys.stderr)
    threading.Thread(target=late).start()
entry()
"""


@pytest.mark.parametrize("case, teardown_runs, said", [
    ("finalizer", False, "teardown ran"),  # nothing to run: the teardown is skipped
    ("atexit", True, "atexit ran"),        # registered work is done
    ("thread", True, "thread finished"),   # a running (non-daemon) thread is waited for
])
def test_entry_skips_the_teardown_only_when_it_has_nothing_to_run(case, teardown_runs, said,
                                                                  golden_config, tmp_path):
    pod = tmp_path / "pod.yaml"
    pod.write_text(NGINX_POD)
    env = {**os.environ, "HOME": str(tmp_path), "KUBECONFIG": os.devnull}
    result = subprocess.run([os.path.join(VENV_BIN, "python"), "-c", ENTRY_CASE, case,
                             "-f", str(pod), *golden_config],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("apiVersion: v1\n") and result.stdout.endswith("---\n")
    assert (said in result.stderr) == teardown_runs, result.stderr


def test_entry_exit_code_and_error_line_survive_the_quick_exit(run_inject, tmp_path):
    result = run_inject("-f", str(tmp_path / "missing.yaml"))
    assert_one_line_error(result, "missing.yaml")
