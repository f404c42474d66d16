"""Release profiles (issue 10): one profile per Istio release line, picked from the config in use;
the only place that compares release numbers."""
from __future__ import annotations

import glob
import os
import re

import pytest

from golden_cases import available as golden_available
from golden_cases import GOLDEN
from inject_testkit import NGINX_POD
from kubectl_inject import releases
from kubectl_inject.config_source import BUILTIN_DIR, DEFAULT_ISTIO_VERSION, builtin_texts, builtin_versions
from kubectl_inject.gotypes.schema import K8S_SCHEMA_FILES, for_k8s_api
from kubectl_inject.load_config import parse_values
from kubectl_inject.meshconfig.defaults import PROFILES as MESH_DEFAULTS
from kubectl_inject.releases import PROFILES, istio_release_of, profile_for, unknown_release_notice

PACKAGE = os.path.dirname(releases.__file__)


def test_the_supported_release_lines_have_profiles():
    assert {(1, minor) for minor in (22, 24, 26, 28, 30)} <= set(PROFILES)
    for release, profile in PROFILES.items():
        assert profile.release == release and profile.name == f"{release[0]}.{release[1]}"
        assert profile.mesh_defaults in MESH_DEFAULTS, "the key names meshconfig's defaults"
        assert profile.k8s_api_line in K8S_SCHEMA_FILES, "its Kubernetes types are generated"
        assert re.fullmatch(r"v0\.\d+\.\d+", profile.k8s_api) and profile.k8s_api_source


def test_k8s_api_of_the_verified_releases():
    assert PROFILES[(1, 22)].k8s_api == "v0.30.0"
    assert PROFILES[(1, 30)].k8s_api == "v0.35.3"


@pytest.mark.parametrize("minor", range(22, 31))
def test_creation_timestamp_is_omitzero_in_the_types_of_1_28_on(minor):
    # k8s.io/apimachinery 0.34 (Istio 1.28) marks ObjectMeta.creationTimestamp omitzero: the
    # release's schema says so, no switch of ours
    types = for_k8s_api(PROFILES[(1, minor)].k8s_api)
    field = types.field_info("k8s.io/apimachinery/pkg/apis/meta/v1.ObjectMeta", "creationTimestamp")
    assert field.omitzero == (minor >= 28)


@pytest.mark.parametrize("minor", range(22, 31))
def test_native_sidecars_auto_by_default_from_1_27(minor):
    # istiod's ENABLE_NATIVE_SIDECARS defaults to "auto" since Istio 1.27.
    assert PROFILES[(1, minor)].native_sidecars_auto_by_default == (minor >= 27)


def test_no_release_is_the_default_profile_silently():
    assert profile_for(None) is PROFILES[releases.DEFAULT_RELEASE] is PROFILES[(1, 22)]
    assert unknown_release_notice(None) == ""
    assert releases.default_builtin() == DEFAULT_ISTIO_VERSION == "1.22.0"


def test_known_releases_have_no_notice():
    for release in PROFILES:
        assert profile_for(release) is PROFILES[release]
        with_patch = profile_for(release + (4,))
        assert with_patch.patch == 4 and with_patch._replace(patch=None) == PROFILES[release]
        assert unknown_release_notice(release) == ""


@pytest.mark.parametrize("release,nearest", [((1, 31), (1, 30)), ((1, 40), (1, 30)), ((2, 0), (1, 30)),
                                             ((1, 21), (1, 22)), ((1, 9), (1, 22)), ((0, 8), (1, 22))])
def test_unknown_release_falls_back_to_the_nearest(release, nearest):
    assert profile_for(release) is PROFILES[nearest]
    notice = unknown_release_notice(release)
    assert "\n" not in notice and notice.startswith("kubectl inject: ")
    assert f"Istio {release[0]}.{release[1]} " in notice and f"istioctl {nearest[0]}.{nearest[1]}" in notice


def test_release_of_image_tags():
    for tag, release in (("1.30.4", (1, 30, 4)), ("1.30.4-distroless", (1, 30, 4)), ("v1.22.0", (1, 22, 0)),
                         ("1.28", (1, 28, None)), ("latest", None), ("9739e10eb9d7", None), ("", None)):
        assert istio_release_of(parse_values(f"global:\n  tag: {tag!r}\n")) == release, tag


def test_every_builtin_config_is_its_own_release_profile():
    for version in builtin_versions():
        release = istio_release_of(parse_values(builtin_texts(version)["values"]))
        assert release[:2] in PROFILES and unknown_release_notice(release) == ""
        assert PROFILES[release[:2]].builtin == version
    named = {p.builtin for p in PROFILES.values() if p.builtin}
    assert named == set(builtin_versions())
    assert all(os.path.isdir(os.path.join(BUILTIN_DIR, b)) for b in named)


@pytest.mark.skipif(not golden_available(), reason="Istio's golden set is absent")
def test_istio_golden_configs_have_no_release_notice():
    files = glob.glob(os.path.join(GOLDEN, "inputs", "*.values.gen.yaml"))
    assert files
    for path in files:
        with open(path, encoding="utf-8") as handle:
            release = istio_release_of(parse_values(handle.read()))
        assert unknown_release_notice(release) == "" and profile_for(release) is PROFILES[(1, 22)]


def test_no_other_module_compares_releases():
    pattern = re.compile(r"[<>]=?\s*\(\s*1\s*,\s*\d+|istio_release\b(?!_of)")
    offenders = []
    for path in glob.glob(os.path.join(PACKAGE, "**", "*.py"), recursive=True):
        if os.path.samefile(path, releases.__file__):
            continue
        with open(path, encoding="utf-8") as handle:
            offenders += [f"{path}:{n}" for n, line in enumerate(handle, 1) if pattern.search(line)]
    assert not offenders


def test_cli_prints_the_unknown_release_notice_once(run_inject, tmp_path):
    texts = builtin_texts("1.30.4")
    files = {}
    for piece, name in (("config", "t.yaml"), ("values", "v.yaml"), ("mesh", "m.yaml")):
        text = texts[piece].replace("tag: 1.30.4", "tag: 1.31.0") if piece == "values" else texts[piece]
        (tmp_path / name).write_text(text)
        files[piece] = str(tmp_path / name)
    (tmp_path / "pod.yaml").write_text(NGINX_POD + "---\n" + NGINX_POD)
    result = run_inject("-f", str(tmp_path / "pod.yaml"), "--injectConfigFile", files["config"],
                        "--valuesFile", files["values"], "--meshConfigFile", files["mesh"])
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("has no release profile") == 1
    assert "Istio 1.31 has no release profile" in result.stderr and "istioctl 1.30" in result.stderr
    assert "creationTimestamp" not in result.stdout, "reproduced as 1.30"
