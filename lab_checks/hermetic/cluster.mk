# cluster.mk -- make targets for the hermetic lab cluster; included by the
# top-level Makefile, or run alone: make -f lab_checks/hermetic/cluster.mk TARGET
#
#   docker-up       a Docker engine answers (installs/starts dockerd offline as root on Debian)
#   cluster-images  build every image offline (no-op online); cached under $LAB_CACHE
#   cluster-up      create (or reuse) kind cluster $LAB_CLUSTER; waits for node Ready + CoreDNS
#   cluster-down    delete it
#   cluster-test    pytest -m cluster on a fresh cluster (deletes it at the end)
#   registry-up     start the local registry; kind-path / cluster-kubeconfig print paths
#
# LAB_OFFLINE=1 forces the offline build, LAB_OFFLINE=0 the public images;
# unset: CI is offline, elsewhere a short probe of the public registry decides.
# LAB_CACHE, LAB_CLUSTER (set in the environment or on make's command line) and their defaults are
# lib.sh's, which every script here sources. Kubeconfig: $LAB_CACHE/kubeconfig-$LAB_CLUSTER
# (make cluster-kubeconfig prints it).

LAB_HERMETIC_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
PYTHON ?= .venv/bin/python

.PHONY: docker-up cluster-images cluster-up cluster-down cluster-test registry-up kind-path cluster-kubeconfig

docker-up:
	$(LAB_HERMETIC_DIR)/docker-up.sh

cluster-images: docker-up
	$(LAB_HERMETIC_DIR)/build-images.sh

cluster-up: cluster-images
	$(LAB_HERMETIC_DIR)/cluster.sh up

cluster-down:
	$(LAB_HERMETIC_DIR)/cluster.sh down

cluster-test: cluster-up
	$(PYTHON) -m pytest -m cluster $(LAB_HERMETIC_DIR)/test_hermetic_cluster.py

registry-up: docker-up
	$(LAB_HERMETIC_DIR)/registry-up.sh up

kind-path:
	@$(LAB_HERMETIC_DIR)/build-go-tools.sh kind && bash -c '. $(LAB_HERMETIC_DIR)/lib.sh && echo $$KIND_BIN'

cluster-kubeconfig:
	@$(LAB_HERMETIC_DIR)/cluster.sh kubeconfig
