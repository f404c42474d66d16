# istio.mk -- make targets for Istio in the hermetic lab cluster; included by the top-level Makefile
# (next to ../cluster.mk), or run alone: make -f lab_checks/hermetic/istio/istio.mk TARGET
#
#   istio-binaries  build istioctl, pilot-discovery, pilot-agent from the pinned istio.io/istio module
#   istio-images    build and serve <hub>/pilot:<tag> and <hub>/proxyv2:<tag> offline (no-op online)
#   istio-up        install Istio (minimal profile) into the running kind cluster; waits for istiod Ready
#   istioctl-path   print the path of the istioctl built here (building it if needed)
#   istio-test      pytest -m cluster on test_istio_images.py (cluster and Istio must be up)
#
# Versions: versions.env beside this file. Cache: $LAB_CACHE/istio/<version> (LAB_CACHE: see ../lib.sh).

ISTIO_HERMETIC_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
# istio-images needs the cluster part's images (the lab registry's own image among them). Run alone,
# this file brings in ../cluster.mk for them; the top-level Makefile includes cluster.mk first.
ifndef LAB_HERMETIC_DIR
include $(ISTIO_HERMETIC_DIR)/../cluster.mk
endif
PYTHON ?= .venv/bin/python

.PHONY: istio-binaries istio-images istio-up istioctl-path istio-test

istio-binaries:
	$(ISTIO_HERMETIC_DIR)/build-binaries.sh

istio-images: cluster-images
	@bash -c '. $(ISTIO_HERMETIC_DIR)/env.sh; if lab_offline; then $(ISTIO_HERMETIC_DIR)/build-images.sh; \
	  else log "online mode: public Istio images are used; nothing to build"; fi'

istio-up: istio-images
	$(ISTIO_HERMETIC_DIR)/istio-up.sh up

istioctl-path:
	@$(ISTIO_HERMETIC_DIR)/istio-up.sh istioctl-path

istio-test:
	$(PYTHON) -m pytest -m cluster $(ISTIO_HERMETIC_DIR)/test_istio_images.py
