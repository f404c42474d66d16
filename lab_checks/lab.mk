# lab.mk -- the sidecar-injection lab suite; included by the top-level Makefile.
#
#   verify-lab           install, then the lab suite (lab_checks/test_lab_steps.py). Its fixtures do
#                        the rest of the set-up with `make cluster-up` (idempotent: images built
#                        offline when missing, the running cluster reused when healthy or else
#                        recreated, Istio installed). Exit 0 only when every step passed.
#   verify-lab-selftest  the suite against broken clusters (istiod at zero, sidecar image missing,
#                        no sidecar injected, Pod deleted mid-lab, an injector without istio-init):
#                        fails at the right step, cleans up; with istiod's native sidecars on, passes
#                        and reports the lab text's container layout as drifted. Under faults in the
#                        middle of a run (docs/hardening.md): the API server cut off before step 3 and
#                        before step 6 (the step fails naming it; cleanup names what it left; a re-run
#                        removes it), and Ctrl-C inside each of the 9 steps, SIGTERM inside step 2 (exit
#                        2, cleanup, nothing left in the cluster or on disk).
#   verify-lab-revisions kubectl inject, the suite and the grader with Istio by revision: a control
#                        plane `canary` installed beside the unrevisioned one with the default tag on
#                        it, then the unrevisioned one removed; kubectl inject equals the istioctl built
#                        here, make verify-lab passes, a right student gets 10/10; the cluster restored.
#   lab-drift            which statements of the lab text (lab_checks/lab_text.py) hold, as Markdown:
#                        offline for every built-in Istio release (classic and native sidecars), plus
#                        every statement on the cluster from the last verify-lab report when there is
#                        one. Written to $(LAB_REPORT_DIR)/lab-drift-releases.md too. No cluster needed.
#   lab-drift-test       unit tests of the statements, their classifier and the offline report.
#
# Reports: $(LAB_REPORT_DIR)/lab-report.json and lab-junit.xml (selftest: lab-selftest-junit.xml).
# LAB_ARGS adds pytest options, e.g. LAB_ARGS='--lab-ready-timeout 300' or
# LAB_ARGS='--kubeconfig ~/.kube/config --context my-cluster' for an existing cluster with Istio.

LAB_REPORT_DIR ?= build
LAB_ARGS ?=
LAB_PYTEST = $(or $(PYTHON),.venv/bin/python) -m pytest -p no:cacheprovider -rN

.PHONY: verify-lab verify-lab-selftest verify-lab-revisions lab-drift lab-drift-test

verify-lab: install
	@mkdir -p $(LAB_REPORT_DIR)
	$(LAB_PYTEST) lab_checks/test_lab_steps.py \
	  --junitxml=$(LAB_REPORT_DIR)/lab-junit.xml --lab-report-json=$(LAB_REPORT_DIR)/lab-report.json $(LAB_ARGS)

verify-lab-selftest: install
	@mkdir -p $(LAB_REPORT_DIR)
	$(LAB_PYTEST) lab_checks/test_lab_selftests.py -v \
	  --junitxml=$(LAB_REPORT_DIR)/lab-selftest-junit.xml $(LAB_ARGS)

verify-lab-revisions: install
	@mkdir -p $(LAB_REPORT_DIR)
	$(LAB_PYTEST) lab_checks/test_lab_revisions.py -v \
	  --junitxml=$(LAB_REPORT_DIR)/lab-revisions-junit.xml $(LAB_ARGS)

lab-drift: install
	@mkdir -p $(LAB_REPORT_DIR)
	@$(or $(PYTHON),.venv/bin/python) -m lab_checks.lab_drift_report \
	  --cluster-report $(LAB_REPORT_DIR)/lab-report.json --markdown $(LAB_REPORT_DIR)/lab-drift-releases.md

lab-drift-test: install
	$(LAB_PYTEST) -q lab_checks/test_lab_drift.py
