# kubectl inject and the sidecar-injection lab.
#   make install      .venv with the project (editable) and a real kubectl
#   make test         unit tests + Istio golden parity (skips golden without ../shared)
#   make golden       Istio's own kube-inject golden cases through the installed command
#   make bench        kubectl inject vs istioctl, side by side (bench/; writes docs/benchmarks.md)
#   make bench-scale  time and peak memory against input size, 1 to 100 MiB (writes docs/benchmarks-scale.md)
#   make verify-lab   everything for the lab: images, kind cluster, Istio, then the lab suite
#   make parity       kubectl inject vs a real istioctl kube-inject (built here) over manifest corpora
#   make grade        grade a class read-only: make grade ROSTER=class.yaml (lab_checks/lab_grading/grade.mk)
SHELL := /bin/bash
VENV := .venv
PYTHON := $(VENV)/bin/python
SHARED := $(abspath ../shared)
GOLDEN := $(SHARED)/istio-golden/1.22.0

.PHONY: install test golden bench bench-scale clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -e '.[lab]'
	# byte-compile now: an editable install never does, and start-up time matters for a CLI
	$(PYTHON) -m compileall -q plugin/kubectl_inject
	touch $@

test: install
	$(PYTHON) -m pytest plugin/tests -q -p no:cacheprovider

golden: install
	$(PYTHON) $(SHARED)/tools/golden_check.py $(GOLDEN) --list-failures -- $(VENV)/bin/kubectl-inject

# Side by side with the istioctl built here; matplotlib only draws docs/benchmarks.png.
bench: install
	$(VENV)/bin/pip install -q --disable-pip-version-check matplotlib
	$(PYTHON) bench/bench_inject.py --istioctl "$$($(MAKE) -s istioctl-path)"

# Time and peak RSS for 1, 10 and 100 MiB inputs, side by side with the istioctl built here
# (about 45 minutes); BENCH_SCALE_ARGS adds options (bench/bench_scale.py --help).
BENCH_SCALE_ARGS ?=
bench-scale: install
	$(PYTHON) bench/bench_scale.py --istioctl "$$($(MAKE) -s istioctl-path)" $(BENCH_SCALE_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info plugin/*.egg-info

-include lab_checks/hermetic/cluster.mk
-include lab_checks/hermetic/istio/istio.mk
-include lab_checks/lab.mk
-include lab_checks/lab_grading/grade.mk

# The lab cluster includes Istio: istio-up brings the kind cluster up first when needed.
cluster-up: istio-up

# Differential test against the istioctl built from Istio's Go module (plugin/tools/parity.py).
# PARITY_ARGS adds options, e.g. PARITY_ARGS='--corpus real-world --native true'.
PARITY_ARGS ?=
.PHONY: parity
parity: install
	@mkdir -p build
	$(PYTHON) plugin/tools/parity.py --istioctl "$$($(MAKE) -s istioctl-path)" --json build/parity.json $(PARITY_ARGS)
