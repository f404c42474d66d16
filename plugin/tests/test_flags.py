"""flags.parse reads plain command lines itself and hands the rest to argparse: wherever it
answers, its answer must be argparse's, and the lab's own command lines must not need argparse."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from inject_testkit import NGINX_POD, ROOT
from kubectl_inject import cli, flags
from kubectl_inject.errors import InjectError

hypothesis = pytest.importorskip("hypothesis", reason="hypothesis is in the lab extra (make install)")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

ALL_FLAGS = flags.INJECT_FLAGS + flags.CLUSTER_FLAGS


def argparse_reading(argv):
    """What argparse makes of argv: the values, or the error's text."""
    try:
        return vars(cli.build_parser().parse_args(argv))
    except InjectError as err:
        return f"error: {err}"


# The words a command line is made of: every flag spelling, abbreviations, help, flags joined to
# values, and values of every shape (stdin's "-", flag-like, empty, spaces, numbers good and bad).
option_words = sorted({name for flag in ALL_FLAGS for name in flag.names}) + [
    "--file", "--inject", "--time", "--off", "-h", "--help", "--", "-fpod.yaml", "-Rf", "-f=pod.yaml",
    "--offline=true", "--output=", "--filename=a.yaml", "--timeout=2.5", "--timeout=0", "--nope",
]
value_words = ["pod.yaml", "-", "", "a b", " -x", "-x", "--explain", "10", "2.5", "nan", "-1",
               "inf", "0", "default", "=", "dir/", "é.yaml"]
words = st.lists(st.sampled_from(option_words + value_words), max_size=8)


@st.composite
def flag_uses(draw):
    """One flag used as a command line would: a switch alone, else any spelling with a value
    (joined by "=" for a long name, or as the next word)."""
    flag = draw(st.sampled_from(ALL_FLAGS))
    name = draw(st.sampled_from(flag.names))
    if flag.action == "switch":
        return [name]
    value = draw(st.sampled_from(value_words))
    if name.startswith("--") and draw(st.booleans()):
        return [f"{name}={value}"]
    return [name, value]


# mostly well-formed command lines (which the plain reading answers), some of anything at all
command_lines = st.one_of(
    st.lists(flag_uses(), max_size=6).map(lambda uses: [word for use in uses for word in use]),
    words)


@settings(max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "60")) * 10, deadline=None)
@given(argv=command_lines)
def test_plain_reading_is_argparse_reading(argv):
    plain = flags._parse_plain(argv, ALL_FLAGS)
    if plain is not None:
        assert vars(plain) == argparse_reading(argv), argv


@pytest.mark.parametrize("argv", [
    ["-f", "nginx-pod.yaml"],
    ["-f", "-"],
    ["-f", "a.yaml", "--filename", "b.yaml", "-R", "-o", "out.yaml"],
    ["--filename=a.yaml", "--in-place", "--explain"],
    ["-f", "pod.yaml", "--injectConfigFile", "inject-config.yaml", "--valuesFile", "values.json",
     "--meshConfigFile", "mesh.yaml"],
    ["-f", "pod.yaml", "-i", "istio-system", "-r", "canary", "--timeout", "2.5", "--kubeconfig", "kc",
     "--context", "kind-istio-lab"],
    ["-f", "pod.yaml", "--offline", "--istio-version", "1.30.4", "--timeout=10"],
    [],
])
def test_the_plain_forms_are_read_without_argparse_and_as_argparse_reads_them(argv):
    plain = flags._parse_plain(argv, ALL_FLAGS)
    assert plain is not None, argv
    assert vars(plain) == argparse_reading(argv)


@pytest.mark.parametrize("argv, words", [
    (["--help"], None),
    (["--file", "a.yaml"], None),                   # an abbreviation: argparse's to resolve
    (["-f"], "expected one argument"),
    (["-f", "--explain"], "expected one argument"),
    (["--timeout", "nan"], "positive number of seconds"),
    (["--timeout", "-1"], "positive number of seconds"),
    (["--offline=yes"], "ignored explicit argument"),
    (["pod.yaml"], "unrecognized arguments"),
])
def test_anything_else_is_argparse_s(argv, words):
    assert flags._parse_plain(argv, ALL_FLAGS) is None
    if words:
        with pytest.raises(InjectError, match=words):
            cli.parse_args(argv)


def test_a_plain_run_loads_neither_argparse_nor_gettext(tmp_path):
    pod = tmp_path / "pod.yaml"
    pod.write_text(NGINX_POD)
    builtin = os.path.join(ROOT, "plugin", "kubectl_inject", "builtin", "1.30.4")
    argv = ["-f", str(pod), "-o", str(tmp_path / "out.yaml"),
            "--injectConfigFile", os.path.join(builtin, "template.yaml"),
            "--valuesFile", os.path.join(builtin, "values.yaml"),
            "--meshConfigFile", os.path.join(builtin, "mesh.yaml")]
    code = ("import sys; from kubectl_inject import cli; code = cli.main(sys.argv[1:]); "
            "print(code, sorted(m for m in ('argparse', 'gettext', 'locale') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True,
                            env={**os.environ, "KUBECONFIG": os.devnull}, timeout=120)
    assert result.stdout.split("\n")[0] == "0 []", result.stdout + result.stderr
    assert "istio-proxy" in (tmp_path / "out.yaml").read_text()
