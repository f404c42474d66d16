"""The sidecar-injection lab as a pytest suite, and the class grader beside it (lab_checks.grading).

Modules, one job each (lower ones first; each imports only those above it in this list):
  steps            the lab's nine steps: names, commands, prerequisites
  lab_text         what the lab text claims students will see, statement by statement
  pod_status       reading a Pod's state the way kubectl shows it
  expectations     what a correct cluster looks like after each step (shared with the grader)
  lab_drift        whether each statement of the lab text holds, drifted or broke
  where            where the suite runs from: a checkout (the kind cluster, make) or an installed package
  lab_plugin       ordering, dependencies, progress and reports of a lab run (a pytest plugin)
  labkit           running the lab's commands, reading the cluster, diagnosing, waiting
  options          the suite's command-line options and markers: the `pytest11` entry point, so an
                   installed package runs with `pytest --pyargs lab_checks --kubeconfig K`
  conftest         the fixtures: cluster, Istio's config, namespace, work directory, shell
  test_lab_steps   the nine steps, each written once, then its checks
  cluster_kit      the cluster as the suite's own tests see it (self-tests, revisions): kubectl with
                   the suite's kubeconfig, waiting for a restored istiod

In a checkout, test_lab_selftests.py (broken clusters), test_lab_revisions.py (Istio by revision),
test_lab_drift.py and hermetic/ (the offline kind cluster) are collected too; an installed package
collects the nine steps only.
"""
