"""What the sidecar-injection lab text says students will see, as data: one Statement per claim.

This is the one place the lab's wording and values are written. expectations.py takes its
constants from here (the suite and the grader assert with them), lab_drift.py classifies each
statement against what a cluster or an offline `kubectl inject` really shows (holds, drifted or
broken), and the drift report quotes `text` verbatim so a course author recognises their own lines.
"""
from __future__ import annotations

from dataclasses import dataclass

from lab_checks.steps import POD

# The Istio release the lab text was written against (`docker inspect istio/proxyv2:1.22.0`).
LAB_ISTIO_RELEASE = "1.22.0"

# Step 1's output as the lab shows it (`kubectl run mywebserver --image nginx --dry-run=client -oyaml`);
# `make lab-drift` transforms it offline, where there is no API server for kubectl run to ask.
GENERATED_POD_YAML = f"""\
apiVersion: v1
kind: Pod
metadata:
  creationTimestamp: null
  labels:
    run: {POD}
  name: {POD}
spec:
  containers:
  - image: nginx
    name: {POD}
    resources: {{}}
  dnsPolicy: ClusterFirst
  restartPolicy: Always
status: {{}}
"""

PROXY_REPOSITORY = "istio/proxyv2"
# istio-proxy's arguments as the lab prints them: the first four are what makes it a sidecar
# (a different start is a broken lab), the log levels follow, then the concurrency pair.
LAB_PROXY_ARGS = ["proxy", "sidecar", "--domain", "$(POD_NAMESPACE).svc.cluster.local"]
LAB_PROXY_LOG_ARGS = ["--proxyLogLevel=warning", "--proxyComponentLogLevel=misc:error",
                      "--log_output_level=default:info"]
LAB_CONCURRENCY_ARGS = ["--concurrency", "2"]
# The istio-init arguments as the lab prints them (`-x ""` is one empty argument), then the log flag.
LAB_IPTABLES_ARGS = ["istio-iptables", "-p", "15001", "-z", "15006", "-u", "1337", "-m", "REDIRECT",
                     "-i", "*", "-x", "", "-b", "*", "-d", "15090,15021,15020"]
LAB_IPTABLES_LOG_ARGS = ["--log_output_level=default:info"]
LAB_ENTRYPOINT = ["/usr/local/bin/pilot-agent"]
LAB_READY_ROW = [POD, "2/2", "Running"]
# What `ps -ef` in istio-proxy shows: pilot-agent as PID 1, Envoy as its child.
PILOT_AGENT_CMD = "/usr/local/bin/pilot-agent proxy sidecar"
ENVOY_CMD = "/usr/local/bin/envoy -c etc/istio/proxy/envoy-rev.json"
# The long form `pilot-agent istio-iptables --help` gives each short flag istio-init uses.
LAB_IPTABLES_LONG_FLAGS = {"-p": "--envoy-port", "-z": "--inbound-capture-port", "-u": "--proxy-uid",
                           "-m": "--istio-inbound-interception-mode", "-i": "--istio-service-cidr",
                           "-x": "--istio-service-exclude-cidr", "-b": "--istio-inbound-ports",
                           "-d": "--istio-local-exclude-ports"}


@dataclass(frozen=True)
class Statement:
    key: str        # stable id (reports, tests)
    step: int       # steps.STEPS number whose output the statement is about
    text: str       # the lab text's own wording
    transform: bool = False   # about step 3's output: checkable offline with `kubectl inject`


STATEMENTS = (
    Statement("generated-pod", 1,
              f"`kubectl run {POD} --image nginx --dry-run=client -oyaml` gives a Pod `{POD}`, label "
              f"`run: {POD}`, one container `{POD}`, image `nginx`"),
    Statement("sidecar-container", 3, "the transformed Pod has a second container `istio-proxy`",
              transform=True),
    Statement("proxy-image", 3, f"`istio-proxy` runs the image `{PROXY_REPOSITORY}`", transform=True),
    Statement("proxy-args", 3,
              "`istio-proxy` args `" + " ".join(LAB_PROXY_ARGS + LAB_PROXY_LOG_ARGS) + "`", transform=True),
    Statement("proxy-concurrency", 3, '`istio-proxy` args end with `--concurrency "2"`', transform=True),
    Statement("init-container", 3, f"an init container `istio-init` on the same image ({PROXY_REPOSITORY})",
              transform=True),
    Statement("iptables-args", 3,
              "`istio-init` args `istio-iptables -p 15001 -z 15006 -u 1337 -m REDIRECT -i '*' -x \"\" "
              "-b '*' -d 15090,15021,15020 --log_output_level=default:info`", transform=True),
    Statement("entrypoint", 4, "the proxyv2 image's entrypoint is `/usr/local/bin/pilot-agent`"),
    Statement("ready", 6, f"`kubectl get pod` shows `{POD}   2/2     Running`"),
    Statement("processes", 7,
              f"`ps -ef` in the sidecar shows PID 1 `{PILOT_AGENT_CMD} --domain ...` and "
              f"`{ENVOY_CMD} ...` with parent 1"),
    Statement("iptables-long-flags", 8,
              "`pilot-agent istio-iptables --help` documents the long forms "
              + ", ".join(f"`{f}`" for f in LAB_IPTABLES_LONG_FLAGS.values())),
)
BY_KEY = {s.key: s for s in STATEMENTS}


def of_step(number: int) -> tuple[Statement, ...]:
    return tuple(s for s in STATEMENTS if s.step == number)
