"""The lab suite's command-line options and markers: registered through the `pytest11` entry
point, so that an installed package runs with `pytest --pyargs lab_checks --kubeconfig K`, and a
checkout's `make verify-lab` with the same options.

pytest accepts new command-line options only from plugins and the root conftest; an entry-point
plugin is loaded by every pytest run in the environment, so this module registers options and
markers and nothing else (the suite's hooks and fixtures come with lab_checks/conftest.py, which
only runs where the lab's tests are collected).
"""
import os


def pytest_addoption(parser):
    group = parser.getgroup("lab", "sidecar-injection lab suite (lab_checks, make verify-lab)")
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
                    help="lab: name of the kind cluster to create or reuse, in a checkout (default "
                         "$LAB_CLUSTER or istio-lab)")
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
                         "(default: the environment's scripts, .venv/bin in a checkout)")
    group.addoption("--lab-no-install", action="store_true",
                    help="lab: never create the kind cluster or install Istio; fail when they are absent")


def pytest_configure(config):
    config.addinivalue_line("markers", "lab: a step of the sidecar-injection lab suite (make verify-lab)")
    config.addinivalue_line("markers", "lab_selftest: runs the lab suite against broken cluster states "
                                       "(make verify-lab-selftest)")
    config.addinivalue_line("markers", "lab_revisions: kubectl inject, the lab suite and the grader on the kind "
                                       "cluster with Istio by revision (make verify-lab-revisions)")
