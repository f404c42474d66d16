"""Shell completion of `kubectl inject`, the way kubectl (1.26+) completes a plugin.

kubectl registers each `kubectl-<name>` on PATH as a command whose completion
(k8s.io/kubectl pkg/cmd/plugin/plugin_completion.go, pluginCompletion) runs the executable
`kubectl_complete-<name>` found on PATH with the plugin's arguments typed so far and, last, the
word being completed ("" after a space): `kubectl inject -f x.yaml --con<TAB>` runs
`kubectl_complete-inject -f x.yaml --con`. No `__complete` word comes first (that is the form a
Cobra plugin's own hidden command takes; a leading one is dropped here all the same). kubectl
reads stdout: one candidate a line (`candidate<TAB>description`), then `:<directive>`, Cobra's
ShellCompDirective bits (spf13/cobra completions.go). It passes its own stdin and stderr
through, so anything on stderr would land on the user's terminal at every TAB: nothing is
written there, and any failure answers ":0" (what kubectl itself does when the program fails).

What is completed:
- flag names (long and short, help as description) from where they are declared, the tables of
  flags.py (INJECT_FLAGS, CLUSTER_FLAGS, the config actions') (plus argparse's -h/--help); one already given is not offered again unless
  it repeats (-f);
- -f/--filename: the input files as `kubectl apply -f` has them, files with the extensions -f
  reads in a directory (flags.INPUT_SUFFIXES) and directories; -o/--output, --injectConfigFile,
  --valuesFile, --meshConfigFile, --kubeconfig: any file; `config pull -o`: directories;
- the subcommands `config` (then `pull`, `show`) and `version`, as the first word only, which is
  the one place cli.run looks for them;
- --context: the contexts of the kubeconfig in effect (--kubeconfig earlier on the line, else
  $KUBECONFIG's files merged, else ~/.kube/config), read as the command reads it (kubeapi,
  PyYAML's safe loader); a kubeconfig that cannot be read gives no candidates;
- --istio-version: the built-in injector configs and the release profiles (releases.py);
- -r/--revision, -i/--istioNamespace, --timeout: nothing (no cluster is asked at a TAB).

Start-up time is most of a completion: this module imports the flag tables (flags.py) and never
cli, which loads the whole injector.
"""
from __future__ import annotations

# _signal, the signal module's C part: `signal` itself builds its enums at import (start-up time)
import _signal
import os
import sys

from .cluster_config import ClusterTarget, kubeconfig_paths
from .config_source import builtin_versions
from .flags import (CLUSTER_FLAGS, CONFIG_ACTIONS, CONFIG_PULL_FLAGS, CONFIG_SHOW_FLAGS, INJECT_FLAGS, INPUT_SUFFIXES,
                    Flag)
from .releases import PROFILES, parse_release

# Cobra's ShellCompDirective bits (spf13/cobra completions.go).
DIRECTIVE_DEFAULT = 0           # the shell's own completion (file names) when no candidate fits
DIRECTIVE_ERROR = 1
DIRECTIVE_NO_SPACE = 2
DIRECTIVE_NO_FILE_COMP = 4      # no file names, even when no candidate fits
DIRECTIVE_FILTER_FILE_EXT = 8   # the candidates are file extensions to offer (and directories)
DIRECTIVE_FILTER_DIRS = 16      # directories only (a single candidate: the directory to look in)
DIRECTIVE_KEEP_ORDER = 32

# argparse adds it to every parser (cli.build_parser, config_cmd's parsers), in its own words.
HELP_FLAG = Flag("-h", "--help", action="switch", help="show this help message and exit")

SUBCOMMANDS = {
    "config": "inspect or save the injector configuration (config pull -o DIR, config show)",
    "version": "print the version and the Istio releases reproduced",
}
# --- the command line so far ---------------------------------------------------------------------

class Scan:
    """What the words before the one being completed say: the flags given (by dest, their values
    in order), a flag still waiting for its value (the word being completed is that value), and
    whether a `--` ended the flags."""

    def __init__(self):
        self.given: dict = {}
        self.pending: Flag | None = None
        self.after_dashes = False

    def value(self, dest: str):
        """The flag's value in effect (the last one given, as argparse keeps), or None."""
        values = self.given.get(dest) or [None]
        return values[-1]


def _by_name(flags) -> dict:
    return {name: flag for flag in flags for name in flag.names}


def lookup(name: str, flags) -> Flag | None:
    """The flag a word names: exactly, or (a long name) by a prefix of one flag only, as
    argparse takes abbreviations."""
    exact = _by_name(flags).get(name)
    if exact is not None or not name.startswith("--"):
        return exact
    matches = {id(f): f for f in flags for n in f.names if n.startswith("--") and n.startswith(name)}
    return next(iter(matches.values())) if len(matches) == 1 else None


def scan(words, flags) -> Scan:
    """Read the words as argparse would: `--flag value`, `--flag=value`, `-f value`, `-fvalue`,
    `-f=value`, abbreviated long flags, switches clustered (`-Rf x`), `--` ending the flags."""
    state, by_name = Scan(), _by_name(flags)

    def given(flag, value=None):
        state.given.setdefault(flag.dest, []).append(value)

    for word in words:
        if state.pending is not None:
            given(state.pending, word)
            state.pending = None
        elif state.after_dashes or not word.startswith("-") or word == "-":
            continue  # a positional word (or stdin's "-")
        elif word == "--":
            state.after_dashes = True
        elif word.startswith("--"):
            name, equals, value = word.partition("=")
            flag = lookup(name, flags)
            if flag is None:
                continue
            if flag.action == "switch":
                given(flag)
            elif equals:
                given(flag, value)
            else:
                state.pending = flag
        else:  # one dash: -f VALUE, -fVALUE, -f=VALUE, switches clustered (-Rf VALUE)
            for at in range(1, len(word)):
                flag = by_name.get("-" + word[at])
                if flag is None:
                    break
                if flag.action == "switch":
                    given(flag)
                    continue
                rest = word[at + 1:]
                rest = rest[1:] if rest.startswith("=") else rest
                if rest:
                    given(flag, rest)
                else:
                    state.pending = flag
                break
    return state


# --- candidates ----------------------------------------------------------------------------------

def _line(candidate: str, description: str = "") -> str | None:
    """One output line; None for a candidate a line cannot carry (a line break or tab in it)."""
    if not candidate or any(c in candidate for c in "\t\r\n"):
        return None
    description = " ".join(description.split())
    return f"{candidate}\t{description}" if description else candidate


def _matching(pairs, prefix: str) -> list:
    lines = (_line(c, d) for c, d in pairs if c.startswith(prefix))
    return [line for line in lines if line is not None]


def flag_names(flags, prefix: str, state: Scan) -> list:
    """The flags' names that start with prefix, each with its help; a flag already given is left
    out unless it can be given again."""
    return _matching(((name, flag.help) for flag in flags
                      if flag.dest not in state.given or flag.action == "append"
                      for name in flag.names), prefix)


def any_file(prefix, state):
    return [], DIRECTIVE_DEFAULT


def no_value(prefix, state):
    return [], DIRECTIVE_NO_FILE_COMP


def directories(prefix, state):
    return [], DIRECTIVE_FILTER_DIRS


def input_files(prefix, state):
    """As kubectl apply -f: files with these extensions, and directories."""
    return [suffix.lstrip(".") for suffix in INPUT_SUFFIXES], DIRECTIVE_FILTER_FILE_EXT


def contexts(prefix, state):
    """The contexts of the kubeconfig in effect: --kubeconfig on the line, else $KUBECONFIG's
    files merged, else ~/.kube/config (cluster_config.kubeconfig_paths)."""
    kubeconfig = state.value("kubeconfig")
    if kubeconfig:  # as the shell will expand it when the command runs
        kubeconfig = os.path.expandvars(os.path.expanduser(kubeconfig))
    paths = [os.path.expanduser(p) for p in kubeconfig_paths(ClusterTarget(kubeconfig=kubeconfig))]
    paths = [p for p in paths if os.path.exists(p)]
    if not paths:
        return [], DIRECTIVE_NO_FILE_COMP
    from . import kubeapi  # lazy: PyYAML and the kubeconfig reader, for --context only
    try:
        config = kubeapi.load_kubeconfig(paths)
        pairs = []
        for name, (entry, _) in config.contexts.items():
            context = entry.get("context")
            cluster = context.get("cluster") if isinstance(context, dict) else None
            about = [] if name != config.current_context else ["current context"]
            about += [f"cluster {cluster}"] if isinstance(cluster, str) else []
            pairs.append((str(name), ", ".join(about)))
    except Exception:  # not YAML, not a kubeconfig, unreadable: nothing to offer
        return [], DIRECTIVE_NO_FILE_COMP
    return _matching(sorted(pairs), prefix), DIRECTIVE_NO_FILE_COMP


def istio_versions(prefix, state):
    """The built-in injector configs (usable alone) and the release lines with a profile (with
    --injectConfigFile, --valuesFile and --meshConfigFile: without them the built-in config of
    that version is used, and only the built-in ones exist)."""
    pairs = [(version, f"built-in injector config of Istio {version}") for version in builtin_versions()]
    pairs += [(f"{major}.{minor}", f"reproduce istioctl {major}.{minor} (with --injectConfigFile, "
               "--valuesFile and --meshConfigFile)") for major, minor in PROFILES]
    pairs.sort(key=lambda pair: (parse_release(pair[0]) or (0, 0, None))[:2] + (pair[0],))
    return _matching(pairs, prefix), DIRECTIVE_NO_FILE_COMP


# How each flag's value is completed, by dest; a flag not named here takes a file name.
VALUES = {
    "filename": input_files,
    "output": any_file, "injectConfigFile": any_file, "valuesFile": any_file,
    "meshConfigFile": any_file, "kubeconfig": any_file,
    "context": contexts,
    "istio_version": istio_versions,
    "istioNamespace": no_value, "revision": no_value, "timeout": no_value,
}


def complete_command(words, current: str, flags, subcommands=None, values=None):
    """Candidates and directive for the word `current` after `words`, for a command with these
    flags; subcommands (name -> description) are offered for a first word that is no flag."""
    values = {**VALUES, **(values or {})}
    state = scan(words, flags)
    if state.pending is not None:
        return values.get(state.pending.dest, any_file)(current, state)
    if state.after_dashes or not current.startswith("-"):
        pairs = (subcommands or {}).items() if not words else ()
        return _matching(pairs, current), DIRECTIVE_NO_FILE_COMP
    if "=" in current:
        # --flag=VALUE, -f=VALUE: the value is completed; the shells' Cobra scripts put the
        # candidates after the "=" themselves
        name, _, value = current.partition("=")
        flag = lookup(name, flags)
        if flag is None or flag.action == "switch":
            return [], DIRECTIVE_NO_FILE_COMP
        return values.get(flag.dest, any_file)(value, state)
    return flag_names(flags, current, state), DIRECTIVE_NO_FILE_COMP


def main_flags() -> tuple:
    return INJECT_FLAGS + CLUSTER_FLAGS + (HELP_FLAG,)


def config_flags(action: str) -> tuple:
    """The flags of `kubectl inject config <action>` (pull, show)."""
    own = CONFIG_PULL_FLAGS if action == "pull" else CONFIG_SHOW_FLAGS
    return own + CLUSTER_FLAGS + (HELP_FLAG,)


def complete(args) -> tuple:
    """(candidate lines, directive) for kubectl's plugin completion: args are the words typed
    after `kubectl inject`, the last one the word being completed."""
    args = list(args)
    if args[:1] == ["__complete"]:
        args = args[1:]
    words, current = args[:-1], (args[-1] if args else "")
    if words[:1] == ["version"]:  # nothing may follow it
        return [], DIRECTIVE_NO_FILE_COMP
    if words[:1] == ["config"]:
        if len(words) == 1:
            return complete_command([], current, (HELP_FLAG,), CONFIG_ACTIONS)
        if words[1] not in CONFIG_ACTIONS:
            return [], DIRECTIVE_NO_FILE_COMP
        values = {"output": directories} if words[1] == "pull" else None
        return complete_command(words[2:], current, config_flags(words[1]), values=values)
    return complete_command(words, current, main_flags(), SUBCOMMANDS)


def render(candidates, directive: int) -> str:
    return "".join(line + "\n" for line in candidates) + f":{directive}\n"


def entry() -> None:
    """The console script kubectl_complete-inject. Always exits 0 and writes only to stdout."""
    # Ctrl-C while the shell waits for candidates: end at once, without a traceback on the terminal
    _signal.signal(_signal.SIGINT, _signal.SIG_DFL)
    try:
        text = render(*complete(sys.argv[1:]))
    except BaseException:  # a bug of ours: no candidates, the shell's own completion
        text = render([], DIRECTIVE_DEFAULT)
    data = text.encode("utf-8", "replace")
    try:
        while data:
            data = data[os.write(1, data):]
    except OSError:
        pass
