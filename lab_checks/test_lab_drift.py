"""The lab text's statements and their classifier, without a cluster (make lab-drift-test).

The transform statements are classified on real `kubectl inject --istio-version X` output of the
built-in releases (what `make lab-drift` reports); the other steps' statements on outputs shaped
as the cluster gives them, one changed at a time.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from lab_checks import expectations, lab_drift_report, lab_text
from lab_checks.lab_drift import BROKEN, DRIFTED, HOLDS, classify, markdown

REPO = Path(__file__).resolve().parent.parent
RELEASES = lab_drift_report.builtin_releases()


def statuses(verdicts):
    return {v.key: v.status for v in verdicts}


def seen(verdicts, key):
    return next(v.seen for v in verdicts if v.key == key)


@pytest.fixture(scope="module")
def injected():
    """{(release, native): the lab's Pod as kubectl inject transforms it offline}."""
    return {(r, n): lab_drift_report.transform(r, n) for r in RELEASES for n in (False, True)}


def test_both_builtin_releases_are_reported():
    assert lab_text.LAB_ISTIO_RELEASE in RELEASES and "1.30.4" in RELEASES, RELEASES


def test_expectations_take_the_lab_values_from_lab_text():
    # One source of truth: the suite's and the grader's checks use the very objects of lab_text.
    for name in ("LAB_IPTABLES_ARGS", "LAB_PROXY_ARGS", "PILOT_AGENT_CMD", "ENVOY_CMD"):
        assert getattr(expectations, name) is getattr(lab_text, name), name


def test_generated_pod_is_the_kubectl_run_output_the_plugin_tests_use():
    testkit = (REPO / "plugin" / "tests" / "inject_testkit.py").read_text()
    assert lab_text.GENERATED_POD_YAML in testkit


@pytest.mark.parametrize("release", RELEASES)
def test_classic_sidecar_only_concurrency_drifts(injected, release):
    verdicts = classify(3, injected[(release, False)])
    assert statuses(verdicts) == {"sidecar-container": HOLDS, "proxy-image": HOLDS, "proxy-args": HOLDS,
                                  "proxy-concurrency": DRIFTED, "init-container": HOLDS, "iptables-args": HOLDS}
    assert seen(verdicts, "proxy-concurrency").startswith("absent: no --concurrency in the args, which end "
                                                          "with --log_output_level=default:info")


@pytest.mark.parametrize("release", RELEASES)
def test_native_sidecar_drifts_the_container_layout(injected, release):
    verdicts = classify(3, injected[(release, True)])
    got = statuses(verdicts)
    assert got["sidecar-container"] == DRIFTED and got["proxy-concurrency"] == DRIFTED
    assert {k: v for k, v in got.items() if k not in ("sidecar-container", "proxy-concurrency")} == \
        dict.fromkeys(("proxy-image", "proxy-args", "init-container", "iptables-args"), HOLDS)
    assert "native sidecar" in seen(verdicts, "sidecar-container")


def test_concurrency_present_holds_and_another_value_drifts(injected):
    pod = copy.deepcopy(injected[(lab_text.LAB_ISTIO_RELEASE, False)])
    proxy = pod["spec"]["containers"][1]
    proxy["args"] += ["--concurrency", "2"]
    assert statuses(classify(3, pod))["proxy-concurrency"] == HOLDS
    proxy["args"][-1] = "4"
    assert seen(classify(3, pod), "proxy-concurrency") == "--concurrency 4 instead"


def test_injector_without_istio_init_is_broken(injected):
    pod = copy.deepcopy(injected[("1.30.4", False)])
    pod["spec"]["initContainers"] = [c for c in pod["spec"]["initContainers"] if c["name"] != "istio-init"]
    got = statuses(classify(3, pod))
    assert got["init-container"] == BROKEN and got["iptables-args"] == BROKEN
    assert got["sidecar-container"] == HOLDS


def test_changed_log_levels_drift_and_a_different_start_breaks(injected):
    pod = copy.deepcopy(injected[(lab_text.LAB_ISTIO_RELEASE, False)])
    args = pod["spec"]["containers"][1]["args"]
    args[args.index("--proxyLogLevel=warning")] = "--proxyLogLevel=debug"
    verdicts = classify(3, pod)
    assert statuses(verdicts)["proxy-args"] == DRIFTED
    assert "--proxyLogLevel=debug" in seen(verdicts, "proxy-args")
    args[1] = "router"
    assert statuses(classify(3, pod))["proxy-args"] == BROKEN


def test_no_sidecar_breaks_every_transform_statement_about_it():
    pod = yaml.safe_load(lab_text.GENERATED_POD_YAML)
    got = statuses(classify(3, pod))
    assert got["sidecar-container"] == BROKEN and got["proxy-args"] == BROKEN and got["init-container"] == BROKEN
    assert statuses(classify(1, pod)) == {"generated-pod": HOLDS}


PS = """\
UID          PID    PPID  C STIME TTY          TIME CMD
istio-p+       1       0  0 10:00 ?        00:00:00 /usr/local/bin/pilot-agent proxy sidecar --domain default.svc.cluster.local --proxyLogLevel=warning
istio-p+      15       1  0 10:00 ?        00:00:01 /usr/local/bin/envoy -c etc/istio/proxy/envoy-rev.json --drain-time-s 45
istio-p+      40       0  0 10:01 ?        00:00:00 ps -ef
"""
IPTABLES_HELP = "Flags:\n" + "".join(f"  {s}, {long} string   something\n"
                                     for s, long in lab_text.LAB_IPTABLES_LONG_FLAGS.items())


def test_running_sidecar_statements():
    assert statuses(classify(4, ["/usr/local/bin/pilot-agent"])) == {"entrypoint": HOLDS}
    assert statuses(classify(4, ["/bin/pilot-agent"])) == {"entrypoint": DRIFTED}
    assert statuses(classify(4, ["/bin/sh"])) == {"entrypoint": BROKEN}
    table = "NAME          READY   STATUS    RESTARTS   AGE\nmywebserver   2/2     Running   0          9s\n"
    assert statuses(classify(6, table)) == {"ready": HOLDS}
    assert statuses(classify(6, table.replace("2/2     Running", "1/2     Running"))) == {"ready": BROKEN}
    assert statuses(classify(7, PS)) == {"processes": HOLDS}
    assert statuses(classify(7, PS.replace("       1  0 10:00 ?        00:00:01", "      15  0 10:00 ?        00:00:01"))) == \
        {"processes": BROKEN}
    assert statuses(classify(8, IPTABLES_HELP)) == {"iptables-long-flags": HOLDS}
    renamed = classify(8, IPTABLES_HELP.replace("--envoy-port", "--envoy-outbound-port"))
    assert statuses(renamed) == {"iptables-long-flags": DRIFTED}
    assert seen(renamed, "iptables-long-flags") == "-p, --envoy-outbound-port (not --envoy-port)"
    assert statuses(classify(8, IPTABLES_HELP.replace("  -p, --envoy-port", ""))) == {"iptables-long-flags": BROKEN}


def test_markdown_lists_each_statement_with_its_status(injected):
    text = markdown([("Istio 1.30.4", [v.as_dict() for v in classify(3, injected[("1.30.4", True)])])])
    assert text.startswith("## Lab text drift\n")
    assert "6 statements: 4 hold, 2 drifted, 0 broken." in text
    assert '| 3 | `istio-proxy` args end with `--concurrency "2"` | **drifted** | absent: no --concurrency' in text


def test_make_lab_drift_report_offline_and_with_a_cluster_report(tmp_path, capsys, injected):
    report = tmp_path / "lab-report.json"
    verdicts = [v.as_dict() for v in classify(3, injected[("1.30.4", False)])]
    report.write_text(json.dumps({"result": "passed", "started": "2026-11-30T00:00:00+00:00",
                                  "cluster": {"name": "istio-lab", "istiod_image": "pilot:1.30.4"},
                                  "steps": [{"number": 3, "statements": verdicts}]}))
    out = tmp_path / "drift.md"
    assert lab_drift_report.main(["--cluster-report", str(report), "--markdown", str(out)]) == 0
    text = capsys.readouterr().out
    assert out.read_text() == text
    headings = [ln for ln in text.splitlines() if ln.startswith("### ")]
    assert headings == [
        "### Istio 1.22.0 (the release the lab text names), offline, classic sidecars",
        "### Istio 1.22.0 (the release the lab text names), offline, native sidecars on (ENABLE_NATIVE_SIDECARS=true)",
        "### Istio 1.30.4, offline, classic sidecars",
        "### Istio 1.30.4, offline, native sidecars on (ENABLE_NATIVE_SIDECARS=true)",
        "### cluster istio-lab (Kubernetes ?, istiod pilot:1.30.4), make verify-lab of 2026-11-30T00:00:00+00:00, "
        "result passed"]
    assert text.count("| **drifted** | absent: no --concurrency") == 5
