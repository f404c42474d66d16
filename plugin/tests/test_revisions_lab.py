"""The lab suite on revision-based installs (issue 24), without a cluster: which control plane the
suite's expectations read (lab_checks.conftest._revision asks the plugin, `kubectl inject config
show`, and names the lab namespace's istio.io/rev label), and istiod's status for a revision."""
from __future__ import annotations

import json
import sys

import pytest

pytest.importorskip("deepdiff")   # the lab suite's own dependency ([lab])

from lab_checks import conftest as lab_conftest  # noqa: E402
from lab_checks import labkit  # noqa: E402
from lab_checks.labkit import Result  # noqa: E402


class FakeLab:
    namespace = "default"
    istio_namespace = "istio-system"

    def __init__(self, show: str, objects: dict | None = None, revision: str = ""):
        self.show, self.objects, self.revision, self.asked = show, objects or {}, revision, []

    def run(self, *argv, timeout=60):
        # This package's answer, not that of a `kubectl inject` on the lab's PATH (which may be a
        # stand-in under test: the self-tests).
        assert argv == (sys.executable, "-m", "kubectl_inject", "config", "show")
        return Result(" ".join(argv), 0, self.show, "", 0.1)

    def get_json(self, *args, timeout=30, check_api=True):
        self.asked.append(args)
        return self.objects.get(args[:2])


SHOW = ("config  cluster (context 'lab'), namespace istio-system, ConfigMap istio-sidecar-injector-canary key 'config'\n"
        "values  ...\nmesh    ...\n"
        "revision canary, from no -r/--revision; the default revision tag (MutatingWebhookConfiguration "
        "istio-revision-tag-default, label istio.io/rev=canary); istioctl 1.30.4 follows the default tag (Istio 1.28+)\n"
        "release istioctl 1.30.4, from istiod's image x\n")


def test_the_suite_reads_the_revision_kubectl_inject_reads():
    revision, why = lab_conftest._revision(FakeLab(SHOW))
    assert revision == "canary"
    assert why == ("no -r/--revision; the default revision tag (MutatingWebhookConfiguration "
                   "istio-revision-tag-default, label istio.io/rev=canary); istioctl 1.30.4 follows the default "
                   "tag (Istio 1.28+)")


def test_a_revision_given_without_a_cluster_is_read_with_its_reason():
    show = SHOW.replace("revision canary, from no -r/--revision; the default revision tag (MutatingWebhookConfiguration "
                        "istio-revision-tag-default, label istio.io/rev=canary); istioctl 1.30.4 follows the default tag "
                        "(Istio 1.28+)", "revision canary (-r/--revision; nothing read from a cluster)")
    assert lab_conftest._revision(FakeLab(show)) == ("canary", "-r/--revision; nothing read from a cluster")


def test_the_unrevisioned_control_plane_is_the_empty_revision():
    show = SHOW.replace("revision canary, from no -r/--revision; the default revision tag (Mutating",
                        "revision default, from no -r/--revision; no default revision tag (Mutating")
    assert lab_conftest._revision(FakeLab(show))[0] == ""


def test_a_namespace_labelled_with_a_tag_is_named_with_its_revision():
    objects = {("namespace", "default"): {"metadata": {"labels": {"istio.io/rev": "prod"}}},
               ("mutatingwebhookconfiguration", "istio-revision-tag-prod"):
                   {"metadata": {"labels": {"istio.io/tag": "prod", "istio.io/rev": "canary"}}}}
    revision, why = lab_conftest._revision(FakeLab(SHOW, objects))
    assert revision == "canary"
    assert why.endswith("; namespace default is labelled istio.io/rev=prod (a tag: revision canary) "
                        "(the webhook's choice; kubectl inject does not read it)")


def test_istiod_of_a_revision_is_istiod_rev():
    objects = {("deployment", "istiod-canary"): {"spec": {"replicas": 1}, "status": {"readyReplicas": 1}},
               ("pods", "-n"): {"items": []}}
    lab = FakeLab(SHOW, objects, revision="canary")
    ready, text = labkit.istiod_status(lab)
    assert (ready, text) == (True, "istiod-canary 1/1 replicas ready")
    assert ("pods", "-n", "istio-system", "-l", "app=istiod,istio.io/rev=canary") in lab.asked


def test_the_drift_reports_cluster_heading_names_a_revision(tmp_path):
    from lab_checks import lab_drift_report
    for revision, shown in (("canary (no -r/--revision; the default revision tag ...)", ", Istio revision canary"),
                            ("default (no -r/--revision; no default revision tag ...)", ""), (None, "")):
        report = {"started": "2026-12-06T00:00:00+00:00", "result": "passed",
                  "cluster": {"name": "istio-lab", "server_version": "v1.34", "istiod_image": "pilot:1.30.4",
                              **({"istio_revision": revision} if revision else {})},
                  "steps": [{"statements": [{"key": "k", "status": "holds"}]}]}
        (tmp_path / "r.json").write_text(json.dumps(report))
        heading, _ = lab_drift_report.cluster_section(tmp_path / "r.json")
        assert heading == (f"cluster istio-lab (Kubernetes v1.34, istiod pilot:1.30.4{shown}), make verify-lab of "
                           "2026-12-06T00:00:00+00:00, result passed")
