"""Repository-wide pytest configuration: where Istio's golden data lives (beside the checkout),
and the command-line options of the lab suite (lab_checks/).

pytest only accepts new command-line options from plugins and the root conftest, so the lab
suite's options are registered here; its fixtures are in lab_checks/conftest.py, its ordering and
reports in lab_checks/lab_plugin.py.
"""
import os
import sys

ROOT = os.path.dirname(os.path.abspath(__file__))
# Tests run against the checkout even when the package is not installed.
sys.path.insert(0, os.path.join(ROOT, "plugin"))


def pytest_addoption(parser):
    group = parser.getgroup("lab", "sidecar-injection lab suite (lab_checks/, make verify-lab)")
    try:
        group.addoption("--kubeconfig", default=None,
                        help="lab: kubeconfig of an existing cluster to use instead of the kind cluster")
    except ValueError:
        # pytest-kind, a dependency of earlier versions that venvs made then still hold, registers
        # the same option (same name and destination); theirs serves.
        pass
    group.addoption("--context", default=None,
                    help="lab: use this kubeconfig context of an existing cluster instead of the kind "
                         "cluster (with or without --kubeconfig)")
    group.addoption("--lab-cluster", default=os.environ.get("LAB_CLUSTER", "istio-lab"),
                    help="lab: name of the kind cluster to create or reuse (default $LAB_CLUSTER or istio-lab)")
    group.addoption("--lab-namespace", default="default",
                    help="lab: namespace the lab Pod runs in (default: default, as in the lab); "
                         "created and removed by the suite when it does not exist")
    group.addoption("--lab-istio-namespace", default="istio-system",
                    help="lab: namespace of istiod and the injector ConfigMaps (default istio-system)")
    group.addoption("--lab-ready-timeout", type=float, default=120.0,
                    help="lab: seconds the Pod may take to be Running with READY 2/2 (default 120)")
    group.addoption("--lab-delete-timeout", type=float, default=90.0,
                    help="lab: seconds the Pod may take to disappear after kubectl delete (default 90)")
    group.addoption("--lab-workdir", default=None,
                    help="lab: directory for the lab's files (default build/lab-work)")
    group.addoption("--lab-report-json", default=None,
                    help="lab: JSON report path (default build/lab-report.json; '' for none)")
    group.addoption("--lab-plugin-dir", default=None,
                    help="lab: directory put first on PATH so `kubectl inject` finds kubectl-inject there "
                         "(default: .venv/bin when installed, else the checkout's launcher)")
    group.addoption("--lab-no-install", action="store_true",
                    help="lab: never create the kind cluster or install Istio; fail when they are absent")


def pytest_configure(config):
    config.addinivalue_line("markers", "lab: a step of the sidecar-injection lab suite (make verify-lab)")
    config.addinivalue_line("markers", "lab_selftest: runs the lab suite against broken cluster states "
                                       "(make verify-lab-selftest)")
