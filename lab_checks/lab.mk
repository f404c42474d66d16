# lab.mk -- the sidecar-injection lab suite; included by the top-level Makefile.
#
#   verify-lab           install, then the lab suite (lab_checks/test_lab_steps.py). Its fixtures do
#                        the rest of the set-up with `make cluster-up` (idempotent: images built
#                        offline when missing, the running cluster reused when healthy or else
#                        recreated, Istio installed). Exit 0 only when every step passed.
#   verify-lab-selftest  the suite against broken clusters (istiod at zero, sidecar image missing,
#                        no sidecar injected, Pod deleted mid-lab): fails at the right step, cleans up.
#
# Reports: $(LAB_REPORT_DIR)/lab-report.json and lab-junit.xml (selftest: lab-selftest-junit.xml).
# LAB_ARGS adds pytest options, e.g. LAB_ARGS='--lab-ready-timeout 300' or
# LAB_ARGS='--kubeconfig ~/.kube/config --context my-cluster' for an existing cluster with Istio.

LAB_REPORT_DIR ?= build
LAB_ARGS ?=
LAB_PYTEST = $(or $(PYTHON),.venv/bin/python) -m pytest -p no:cacheprovider -rN

.PHONY: verify-lab verify-lab-selftest

verify-lab: install
	@mkdir -p $(LAB_REPORT_DIR)
	$(LAB_PYTEST) lab_checks/test_lab_steps.py \
	  --junitxml=$(LAB_REPORT_DIR)/lab-junit.xml --lab-report-json=$(LAB_REPORT_DIR)/lab-report.json $(LAB_ARGS)

verify-lab-selftest: install
	@mkdir -p $(LAB_REPORT_DIR)
	$(LAB_PYTEST) lab_checks/test_lab_selftests.py -v \
	  --junitxml=$(LAB_REPORT_DIR)/lab-selftest-junit.xml $(LAB_ARGS)
