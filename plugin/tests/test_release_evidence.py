"""Which Istio release a configuration is (releases.release_evidence): read from evidence in a
fixed order, never guessed silently (issue 23)."""
from __future__ import annotations

import os

import pytest
import yaml

from kubectl_inject import releases
from kubectl_inject.load_config import parse_values

SHARED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "istio-golden")
needs_shared = pytest.mark.skipif(not os.path.isdir(SHARED), reason="../shared/istio-golden is absent")

LATEST = parse_values('{"global": {"tag": "latest", "hub": "gcr.io/istio-testing"}}', source="test")
TAGGED = parse_values('{"global": {"tag": "1.28.2", "hub": "docker.io/istio"}}', source="test")


def sidecar_template(release: str) -> str:
    with open(os.path.join(SHARED, release, "inputs", "default.template.gen.yaml"), encoding="utf-8") as f:
        return yaml.safe_load(f)["templates"]["sidecar"]


def test_the_flag_comes_first():
    found = releases.release_evidence("1.24.6", labels={"operator.istio.io/version": "1.30.4"}, values=TAGGED)
    assert found == releases.Evidence((1, 24, 6), "--istio-version", True)
    assert found.notice("latest") == ""


@pytest.mark.parametrize("labels, release, label", [
    ({"operator.istio.io/version": "1.30.4", "app.kubernetes.io/version": "1.29.0"}, (1, 30, 4), "operator.istio.io/version"),
    ({"app.kubernetes.io/version": "1.29.1", "helm.sh/chart": "istiod-1.28.0"}, (1, 29, 1), "app.kubernetes.io/version"),
    ({"app.kubernetes.io/version": "1.0.0", "helm.sh/chart": "istiod-1.28.3"}, (1, 28, 3), "helm.sh/chart"),
])
def test_cluster_labels_come_before_images_and_values(labels, release, label):
    found = releases.release_evidence(labels=labels, istiod_image="docker.io/istio/pilot:1.27.0", values=TAGGED)
    assert found.release == release and label in found.source and found.stated


def test_the_charts_placeholder_release_states_nothing():
    # Istio's chart in its source tree says 1.0.0, as the hermetic cluster's labels show.
    labels = {"app.kubernetes.io/version": "1.0.0", "helm.sh/chart": "istiod-1.0.0"}
    found = releases.release_evidence(labels=labels, istiod_image="localhost:5001/istio/pilot:1.30.4-lab-c8b134f94f")
    assert found.release == (1, 30, 4) and found.source.startswith("istiod's image")


@pytest.mark.parametrize("image, release", [
    ("docker.io/istio/pilot:1.26.8", (1, 26, 8)),
    ("localhost:5001/istio/pilot:1.30.4-distroless", (1, 30, 4)),
    ("localhost:5001/istio/pilot", None),                # a registry port, no tag
    ("gcr.io/istio-testing/pilot:latest@sha256:0123", None),
    ("", None),
])
def test_istiods_image_tag(image, release):
    assert releases.release_of_image(image) == release


def test_the_values_tag_states_a_release():
    found = releases.release_evidence(values=TAGGED, sidecar_template="anything")
    assert found.release == (1, 28, 2) and found.stated and found.notice("1.28.2") == ""


@needs_shared
@pytest.mark.parametrize("release", ["1.22.0", "1.30.3"])
def test_a_release_template_is_recognised_with_a_notice(release):
    found = releases.release_evidence(values=LATEST, sidecar_template=sidecar_template(release))
    assert found.name == release and not found.stated
    notice = found.notice("latest")
    assert notice.startswith("kubectl inject: the injector config names no Istio release (image tag 'latest')")
    assert f"reproducing istioctl {release}" in notice and "--istio-version" in notice
    assert "\n" not in notice


def test_an_unknown_template_gives_the_newest_profile_with_a_notice():
    found = releases.release_evidence(values=LATEST, sidecar_template="{{ a private build's template }}")
    newest = max(releases.PROFILES)
    assert found.release[:2] == newest and not found.stated
    assert "the newest release profile" in found.notice("my-build")
    assert releases.profile_for(found.release).release == newest


def test_a_template_given_as_a_function_is_asked_for_only_when_nothing_states_the_release():
    asked = []

    def template():
        asked.append(True)
        return "{{ a private build's template }}"
    assert releases.release_evidence(values=TAGGED, sidecar_template=template).release == (1, 28, 2)
    assert asked == []
    found = releases.release_evidence(values=LATEST, sidecar_template=template)
    assert asked == [True] and found.release[:2] == max(releases.PROFILES) and not found.stated


def test_a_built_in_template_is_recognised_when_asked():
    found = releases.release_evidence(values=LATEST, sidecar_template="mine",
                                      builtin_templates=lambda: {releases.template_digest("mine"): "1.30.4"})
    assert found.name == "1.30.4" and not found.stated


# --- end to end: the notice, and the output it announces -------------------------------------------

BUILTIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "kubectl_inject", "builtin", "1.30.4")


def config_files(tmp_path, tag=None, template_suffix=""):
    """The built-in 1.30.4 config files, with another image tag and a changed sidecar template."""
    with open(os.path.join(BUILTIN, "template.yaml"), encoding="utf-8") as f:
        template = yaml.safe_load(f)
    template["templates"]["sidecar"] += template_suffix
    with open(os.path.join(BUILTIN, "values.yaml"), encoding="utf-8") as f:
        values = yaml.safe_load(f)
    if tag is not None:
        values["global"]["tag"] = tag
    (tmp_path / "template.yaml").write_text(yaml.safe_dump(template, sort_keys=False))
    (tmp_path / "values.yaml").write_text(yaml.safe_dump(values, sort_keys=False))
    return ["--injectConfigFile", str(tmp_path / "template.yaml"), "--valuesFile", str(tmp_path / "values.yaml"),
            "--meshConfigFile", os.path.join(BUILTIN, "mesh.yaml")]


def test_a_tag_that_names_no_release_gives_the_newest_istioctl_and_one_notice(run_inject, tmp_path):
    from inject_testkit import NGINX_POD
    (tmp_path / "pod.yaml").write_text(NGINX_POD)
    files = config_files(tmp_path, tag="my-build", template_suffix="\n{{- /* a private build */ -}}\n")
    inferred = run_inject("-f", str(tmp_path / "pod.yaml"), *files)
    newest = max(releases.PROFILES)
    stated = run_inject("-f", str(tmp_path / "pod.yaml"), *files, "--istio-version", f"{newest[0]}.{newest[1]}")
    assert inferred.returncode == 0 and stated.returncode == 0, inferred.stderr + stated.stderr
    assert inferred.stdout == stated.stdout
    assert "creationTimestamp: null" not in inferred.stdout      # what istioctl 1.22 would print
    assert inferred.stderr.splitlines() == [
        f"kubectl inject: the injector config names no Istio release (image tag 'my-build'); reproducing istioctl "
        f"{newest[0]}.{newest[1]}, from the newest release profile ({newest[0]}.{newest[1]}); --istio-version chooses another"]
    assert stated.stderr == ""


def test_a_release_tag_gives_no_notice(run_inject, tmp_path):
    from inject_testkit import NGINX_POD
    (tmp_path / "pod.yaml").write_text(NGINX_POD)
    result = run_inject("-f", str(tmp_path / "pod.yaml"), *config_files(tmp_path, template_suffix="\n"))
    assert result.returncode == 0 and result.stderr == "", result.stderr
