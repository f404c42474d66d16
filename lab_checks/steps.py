"""The sidecar-injection lab's steps, as data: number, name, the lab's command lines, prerequisites.

This table is the one place a step's command is written. test_lab_steps.py runs these commands
(each test is marked `@pytest.mark.lab_step(N)` and receives its Step through the `lab_step`
fixture); lab_plugin.py orders the tests by it, skips a step whose prerequisite did not pass, and
puts names and commands into the terminal table and the JSON report.
"""
from __future__ import annotations

from dataclasses import dataclass

POD = "mywebserver"


@dataclass(frozen=True)
class Step:
    number: int
    name: str
    # Run verbatim in the lab's work directory, in this order. `{image}` (step 4) is the proxyv2
    # image that step 3 found in the cluster's injector configuration.
    commands: tuple[str, ...]
    depends: tuple[int, ...] = ()
    # The step talks to the Kubernetes API server. Once one step found the API server unreachable,
    # such a step runs only if it answers again (else it is reported as not run, with the reason).
    api: bool = True

    @property
    def command(self) -> str:
        """The command of a one-command step; for reports, every command on one line."""
        return "; ".join(self.commands)


def _step(number: int, name: str, *commands: str, depends: tuple[int, ...] = (), api: bool = True) -> Step:
    return Step(number, name, commands, depends, api)


STEPS = {s.number: s for s in (
    _step(1, "Generate", f"kubectl run {POD} --image nginx --dry-run=client -oyaml > nginx-pod.yaml",
          api=False),
    _step(2, "Usage", "kubectl inject --help", api=False),
    _step(3, "Transform", "kubectl inject --filename ./nginx-pod.yaml > transformed.yaml", depends=(1, 2)),
    # On the kind node (`docker exec <node> ...`): the container runtime's view of the image.
    _step(4, "Entrypoint", "crictl inspecti -o json {image}", depends=(3,), api=False),
    _step(5, "Apply", "kubectl apply -f transformed.yaml", depends=(3,)),
    _step(6, "Ready", f"kubectl get pod {POD}", depends=(5,)),
    _step(7, "Processes", f"kubectl exec {POD} -c istio-proxy -- ps -ef", depends=(6,)),
    _step(8, "Help", f"kubectl exec {POD} -c istio-proxy -- pilot-agent --help",
          f"kubectl exec {POD} -c istio-proxy -- pilot-agent istio-iptables --help", depends=(7,)),
    _step(9, "Cleanup", "kubectl delete -f transformed.yaml", depends=(5,)),
)}
