"""lab-grade: the sidecar-injection lab's checks, read-only, on every student's cluster of a class.

Modules, one job each:
  roster         who is graded: targets (kubeconfig, context, namespace) from a YAML or CSV roster
  cluster_reads  one target's read-only snapshot (API reads, `ps -ef` in the sidecar) within a time budget
  rubric         the checks and their points, scored from a snapshot with the lab's expectations
  submissions    a student's submitted files and what kubectl inject makes of them (optional)
  runner         a class graded in parallel (--jobs), each target bounded, progress on the terminal
  reports        the class table, CSV, JSON and JUnit
  access         the RBAC an instructor applies (rbac.yaml) and a kubeconfig for its ServiceAccount
  cli            the `lab-grade` command

The checks themselves are the lab suite's (lab_checks.expectations, pod_status, steps), imported
from the package this one sits in, not copied.
"""
