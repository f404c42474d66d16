# kubectl inject and the sidecar-injection lab.
#   make install      .venv with the project (editable) and a real kubectl
#   make test         unit tests + Istio golden parity (skips golden without ../shared)
#   make golden       Istio's own kube-inject golden cases through the installed command
#   make bench        kubectl inject vs istioctl, side by side (bench/; writes docs/benchmarks.md)
#   make bench-scale  time and peak memory against input size, 1 to 100 MiB (writes docs/benchmarks-scale.md)
#   make verify-lab   everything for the lab: images, kind cluster, Istio, then the lab suite
#   make parity       kubectl inject vs a real istioctl kube-inject (built here) over manifest corpora
#   make dist         wheel, sdist, krew archive and manifest in dist/
#   make install-test the wheel installed as users install it (pip, pipx), outside the checkout
#   make krew-test    krew (built from the Go module proxy) installs dist/'s archive; kubectl inject through its shim
#   make grade        grade a class read-only: make grade ROSTER=class.yaml (lab_checks/grading/grade.mk)
SHELL := /bin/bash
VENV := .venv
PYTHON := $(VENV)/bin/python
SHARED := $(abspath ../shared)
GOLDEN := $(SHARED)/istio-golden/1.22.0

.PHONY: install test golden bench bench-scale bench-versions clean dist install-test krew-test

install: $(VENV)/.installed

# Editable in setuptools' compat mode: plain directories in a .pth file. It writes only the first
# package root (plugin/, for kubectl_inject); lab_checks's root, the checkout itself, is added to the
# same file, as the mode would for a package of its own. The default mode installs an import finder that every Python
# start loads with pathlib, re and importlib.util (about 20 ms, a sixth of a one-Pod `kubectl
# inject` run). Bytecode is compiled at once: an editable install never does, and start-up time
# matters for a CLI.
#
# The venv is built on the distribution's python3 when it has one with venv (Debian's, here),
# else on the first python3 on PATH; PYTHON3=... chooses another. A CLI started by hand pays the
# interpreter's own speed on every run: Debian builds its python3 with profile-guided and
# link-time optimisation and links the interpreter into the executable, where pyenv's default
# build (this machine's PATH python3, 3.11.7) has neither. On 2026-12-01 a one-Pod run took 17%
# fewer instructions on it (227 M against 273 M) and 13-15% less time (docs/startup-profile.md).
# A venv built on another interpreter than the one chosen is rebuilt from scratch, so that
# changing PYTHON3 takes effect.
#
# setuptools leaves once the project is installed: Python 3.11's venv puts it in (3.12's no longer
# does), nothing in the venv runs it (pip builds the project in an isolated environment), and its
# distutils-precedence.pth adds an import hook to every Python start, 1% of a one-Pod run.
ifndef PYTHON3
PYTHON3 := $(shell /usr/bin/python3 -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 10))' >/dev/null 2>&1 && echo /usr/bin/python3 || echo python3)
endif
REAL_INTERPRETER := import os, sys; print(os.path.realpath(getattr(sys, "_base_executable", sys.executable)))
$(VENV)/.installed: pyproject.toml Makefile
	if [ -x $(PYTHON) ] && [ "$$($(PYTHON) -c '$(REAL_INTERPRETER)')" != "$$($(PYTHON3) -c '$(REAL_INTERPRETER)')" ]; then rm -rf $(VENV); fi
	$(PYTHON3) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -e '.[lab]' --config-settings editable_mode=compat
	$(VENV)/bin/pip uninstall -q -y --disable-pip-version-check setuptools
	site="$$($(PYTHON) -c 'import sysconfig; print(sysconfig.get_path("purelib"))')" && rm -f "$$site/kubectl_inject_lab_checks.pth" && \
	  echo "$(CURDIR)" >> "$$(ls "$$site"/__editable__.kubectl_inject-*.pth)"
	$(PYTHON) -m compileall -q plugin/kubectl_inject
	touch $@

test: install
	$(PYTHON) -m pytest plugin/tests -q -p no:cacheprovider

golden: install
	$(PYTHON) $(SHARED)/tools/golden_check.py $(GOLDEN) --list-failures -- $(VENV)/bin/kubectl-inject

# Side by side with the istioctl built here; matplotlib only draws docs/benchmarks.png.
# compileall first: a module changed since `make install` would otherwise be compiled again by every
# timed run wherever PYTHONDONTWRITEBYTECODE is set (as on the project's machine).
bench: install
	$(VENV)/bin/pip install -q --disable-pip-version-check matplotlib
	$(PYTHON) -m compileall -q plugin/kubectl_inject
	$(PYTHON) bench/bench_inject.py --istioctl "$$($(MAKE) -s istioctl-path)"

# What a change cost or saved: kubectl inject at BASE and this checkout, with istioctl, interleaved on
# the lab's Pod, config from the hermetic cluster (BENCH_VERSIONS_ARGS='--offline': config files).
BASE ?= HEAD~1
BENCH_VERSIONS_ARGS ?=
bench-versions: install
	KUBECONFIG="$$($(MAKE) -s cluster-kubeconfig)" $(PYTHON) bench/bench_versions.py \
	  --istioctl "$$($(MAKE) -s istioctl-path)" --base $(BASE) $(BENCH_VERSIONS_ARGS)

# Time and peak RSS for 1, 10 and 100 MiB inputs, side by side with the istioctl built here
# (about 7 minutes here on 2026-12-01, with a --baseline run up to 10 MiB); BENCH_SCALE_ARGS adds
# options (bench/bench_scale.py --help).
BENCH_SCALE_ARGS ?=
bench-scale: install
	$(PYTHON) -m compileall -q plugin/kubectl_inject
	$(PYTHON) bench/bench_scale.py --istioctl "$$($(MAKE) -s istioctl-path)" $(BENCH_SCALE_ARGS)

clean:
	rm -rf $(VENV) build dist *.egg-info plugin/*.egg-info

# The wheel is built from the sdist (python -m build), so a file the sdist lacks fails here.
dist: install
	$(VENV)/bin/pip install -q --disable-pip-version-check build
	rm -rf dist && mkdir -p build
	$(PYTHON) -m build --outdir dist . > build/dist.log 2>&1 || { tail -20 build/dist.log; exit 1; }
	$(PYTHON) plugin/tools/krew/build.py --out dist
	@ls -l dist

# LAB_KUBECONFIG=K also runs the installed lab suite against that cluster.
install-test: dist
	PYTHON3=$(PYTHON3) plugin/tools/install-test.sh

# kubectl inject installed by a real krew (v0.4.3, built once from the Go module proxy) from dist/'s
# manifest and archive, with no network: plugin/tools/krew/README.md
krew-test: dist
	plugin/tools/krew/krew-test.sh --dist dist

-include lab_checks/hermetic/cluster.mk
-include lab_checks/hermetic/istio/istio.mk
-include lab_checks/lab.mk
-include lab_checks/grading/grade.mk

# The lab cluster includes Istio: istio-up brings the kind cluster up first when needed.
cluster-up: istio-up

# Differential test against the istioctl built from Istio's Go module (plugin/tools/parity.py).
# PARITY_ARGS adds options, e.g. PARITY_ARGS='--corpus real-world --native true'.
PARITY_ARGS ?=
.PHONY: parity
parity: install
	@mkdir -p build
	$(PYTHON) plugin/tools/parity.py --istioctl "$$($(MAKE) -s istioctl-path)" --json build/parity.json $(PARITY_ARGS)
