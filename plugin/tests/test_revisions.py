"""Revision-based Istio installs in cluster mode (issue 24), against a loopback API server.

istioctl 1.28+ kube-inject without -r injects with the revision the default revision tag points
at (cli.Context.RevisionOrDefault: the istio.io/rev label of the MutatingWebhookConfiguration
istio-revision-tag-default; none: "default"), reading istio-sidecar-injector-REV and istio-REV;
older releases read the unrevisioned ConfigMaps; -r is taken as given (a tag is not resolved:
istioctl reads istio-TAG and fails). No kind cluster: the server here serves ConfigMaps, the
tag's webhook configuration and istiod's Deployment from dicts, and records every GET.
"""
from __future__ import annotations

import contextlib
import json
import os
import subprocess
import threading

import pytest

from inject_testkit import NGINX_POD, JsonApiHandler, kubectl_inject_command, loopback_server
from kubectl_inject import goyaml
from kubectl_inject.releases import PROFILES, profile_for

BUILTIN = os.path.join(os.path.dirname(goyaml.__file__), "..", "builtin", "1.30.4")
TEXTS = {name: open(os.path.join(BUILTIN, f"{name}.yaml"), encoding="utf-8").read()
         for name in ("template", "values", "mesh")}
TAG_PATH = "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/istio-revision-tag-default"
CM_PATH = "/api/v1/namespaces/istio-system/configmaps/"


def control_plane(revision: str, release: str = "1.30.4", hub: str = "docker.io/istio") -> dict:
    """The objects one control plane installs: {path: object} (its two ConfigMaps, istiod)."""
    suffix = f"-{revision}" if revision else ""
    values = TEXTS["values"].replace("tag: 1.30.4", f"tag: {release}").replace("hub: docker.io/istio", f"hub: {hub}")
    values = values.replace('revision: ""', f'revision: "{revision}"')
    labels = {"istio.io/rev": revision or "default", "operator.istio.io/version": release}
    return {
        CM_PATH + f"istio-sidecar-injector{suffix}": {
            "kind": "ConfigMap", "metadata": {"name": f"istio-sidecar-injector{suffix}", "labels": labels},
            "data": {"config": TEXTS["template"], "values": values}},
        CM_PATH + f"istio{suffix}": {"kind": "ConfigMap", "metadata": {"name": f"istio{suffix}", "labels": labels},
                                     "data": {"mesh": TEXTS["mesh"]}},
        f"/apis/apps/v1/namespaces/istio-system/deployments/istiod{suffix}": {
            "kind": "Deployment", "spec": {"template": {"spec": {"containers": [
                {"name": "discovery", "image": f"{hub}/pilot:{release}",
                 "env": [{"name": "ENABLE_NATIVE_SIDECARS", "value": "false"}]}]}}}},
    }


def default_tag(revision: str | None) -> dict:
    labels = {"istio.io/tag": "default", "app": "sidecar-injector"}
    if revision is not None:
        labels["istio.io/rev"] = revision
    return {TAG_PATH: {"kind": "MutatingWebhookConfiguration",
                       "metadata": {"name": "istio-revision-tag-default", "labels": labels}, "webhooks": []}}


@contextlib.contextmanager
def api_server(tmp_path, objects: dict, status: dict | None = None):
    """A loopback API server serving `objects` ({path: object}; others 404, `status` {path: code});
    yields (kubeconfig path, the list of paths asked for)."""
    asked = []
    lock = threading.Lock()

    class Handler(JsonApiHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            path = self.path.split("?")[0]
            with lock:
                asked.append(path)
            if path in (status or {}):
                self.reply_json(status[path], {"kind": "Status", "code": status[path]})
            elif path in objects:
                self.reply_json(200, objects[path])
            elif path == "/api/v1/nodes":
                self.reply_json(200, {"kind": "NodeList", "items": []})
            else:
                self.reply_json(404, {"kind": "Status", "code": 404})

    with loopback_server(Handler) as server:
        kubeconfig = tmp_path / "kubeconfig"
        kubeconfig.write_text(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: \"http://127.0.0.1:"
            f"{server.server_port}\"}}\nusers:\n- name: u\n  user:\n    token: abc\ncontexts:\n- name: lab\n"
            "  context: {cluster: c, user: u}\ncurrent-context: lab\n")
        yield str(kubeconfig), asked


def run(*args, stdin=NGINX_POD):
    env = dict(os.environ, HOME="/nonexistent", ENABLE_NATIVE_SIDECARS="false")
    env.pop("KUBECONFIG", None)
    return subprocess.run(kubectl_inject_command() + list(args), input=stdin, text=True, capture_output=True,
                          env=env, timeout=120)


def status_revision(output: str) -> str:
    pod = goyaml.load(output)
    return json.loads(pod["metadata"]["annotations"]["sidecar.istio.io/status"])["revision"]


def configmaps_read(asked: list) -> list:
    return [path[len(CM_PATH):] for path in asked if path.startswith(CM_PATH)]


def show(kubeconfig: str, *args) -> dict:
    result = run("config", "show", "--kubeconfig", kubeconfig, *args, stdin="")
    assert result.returncode == 0, result.stderr
    return {line.split(" ", 1)[0]: line.split(" ", 1)[1] for line in result.stdout.splitlines()}


# --- the release switch --------------------------------------------------------------------------

def test_the_default_revision_is_resolved_from_istio_1_28_on():
    assert [p.name for p in PROFILES.values() if p.resolves_default_revision] == ["1.28", "1.29", "1.30"]
    assert not profile_for((1, 27, 3)).resolves_default_revision
    assert profile_for((1, 30, 4)).resolves_default_revision


# --- without -r: the default tag -----------------------------------------------------------------

def test_no_tag_reads_the_unrevisioned_control_plane(tmp_path):
    with api_server(tmp_path, control_plane("")) as (kubeconfig, asked):
        result = run("-f", "-", "--kubeconfig", kubeconfig)
        shown = show(kubeconfig)
    assert result.returncode == 0, result.stderr
    assert status_revision(result.stdout) == "default"
    assert asked[0] == TAG_PATH   # one GET more, first
    assert configmaps_read(asked)[:2] == ["istio-sidecar-injector", "istio"]
    assert shown["revision"] == ("default, from no -r/--revision; no default revision tag "
                                 "(MutatingWebhookConfiguration istio-revision-tag-default not found)")


def test_the_default_tag_chooses_the_revision_on_1_30(tmp_path):
    """The issue's cluster: canary installed, the unrevisioned one removed, default tag -> canary."""
    objects = {**control_plane("canary"), **default_tag("canary")}
    with api_server(tmp_path, objects) as (kubeconfig, asked):
        result = run("-f", "-", "--kubeconfig", kubeconfig)
        explicit = run("-f", "-", "--kubeconfig", kubeconfig, "-r", "canary")
        shown = show(kubeconfig)
    assert result.returncode == 0, result.stderr
    assert result.stdout == explicit.stdout   # the same as -r canary, byte for byte
    assert status_revision(result.stdout) == "canary"
    assert "istio-sidecar-injector" not in configmaps_read(asked)  # the unrevisioned one never asked for
    assert shown["revision"] == ("canary, from no -r/--revision; the default revision tag "
                                 "(MutatingWebhookConfiguration istio-revision-tag-default, label "
                                 "istio.io/rev=canary); istioctl 1.30.4 follows the default tag (Istio 1.28+)")
    assert "ConfigMap istio-sidecar-injector-canary key 'config'" in shown["config"]
    assert "ConfigMap istio-canary key 'mesh'" in shown["mesh"]


def test_a_release_before_1_28_reads_the_unrevisioned_control_plane(tmp_path):
    objects = {**control_plane("", release="1.27.3"), **control_plane("canary", release="1.27.3"),
               **default_tag("canary")}
    with api_server(tmp_path, objects) as (kubeconfig, asked):
        result = run("-f", "-", "--kubeconfig", kubeconfig)
        shown = show(kubeconfig)
    assert result.returncode == 0, result.stderr
    assert status_revision(result.stdout) == "default"
    assert configmaps_read(asked)[:4] == ["istio-sidecar-injector-canary", "istio-canary",
                                          "istio-sidecar-injector", "istio"]
    assert shown["revision"].startswith("default, from no -r/--revision; the default revision tag points at "
                                        "canary, but istioctl 1.27.3 (from the injector ConfigMap's label "
                                        "operator.istio.io/version) reads the unrevisioned control plane")
    assert "ConfigMap istio-sidecar-injector key 'config'" in shown["config"]
    assert shown["release"].startswith("istioctl 1.27.3")


def test_a_release_before_1_28_without_the_unrevisioned_control_plane_fails_as_it_would(tmp_path):
    objects = {**control_plane("canary", release="1.27.3"), **default_tag("canary")}
    with api_server(tmp_path, objects) as (kubeconfig, _):
        result = run("-f", "-", "--kubeconfig", kubeconfig)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith("Error: Istio is not installed for this request: ConfigMap "
                                    "'istio-sidecar-injector' not found in namespace 'istio-system'")


def test_a_tag_pointing_at_default_is_the_unrevisioned_control_plane(tmp_path):
    objects = {**control_plane(""), **default_tag("default")}
    with api_server(tmp_path, objects) as (kubeconfig, asked):
        result = run("-f", "-", "--kubeconfig", kubeconfig)
    assert result.returncode == 0, result.stderr
    assert status_revision(result.stdout) == "default"
    assert configmaps_read(asked)[:2] == ["istio-sidecar-injector", "istio"]


def test_a_tag_pointing_at_default_is_read_once_whatever_the_release(tmp_path):
    objects = {**control_plane("", release="1.27.3"), **default_tag("default")}
    with api_server(tmp_path, objects) as (kubeconfig, asked):
        result = run("-f", "-", "--kubeconfig", kubeconfig)
    assert result.returncode == 0, result.stderr
    assert configmaps_read(asked) == ["istio-sidecar-injector", "istio"]


def test_a_tag_without_a_revision_label_is_default(tmp_path):
    objects = {**control_plane(""), **default_tag(None)}
    with api_server(tmp_path, objects) as (kubeconfig, _):
        shown = show(kubeconfig)
    assert shown["revision"] == ("default, from no -r/--revision; the default revision tag "
                                 "(MutatingWebhookConfiguration istio-revision-tag-default) names no istio.io/rev")


def test_a_tag_the_rbac_refuses_is_no_tag_and_says_so(tmp_path):
    """istioctl's watcher would wait for ever; we read the unrevisioned control plane and say why."""
    objects = {**control_plane(""), **default_tag("canary")}
    with api_server(tmp_path, objects, status={TAG_PATH: 403}) as (kubeconfig, _):
        result = run("-f", "-", "--kubeconfig", kubeconfig)
        shown = show(kubeconfig)
    assert result.returncode == 0, result.stderr
    assert status_revision(result.stdout) == "default"
    assert shown["revision"] == ("default, from no -r/--revision; the default revision tag could not be read "
                                 "(MutatingWebhookConfiguration istio-revision-tag-default: 403 Forbidden)")


def test_a_tag_answer_that_is_not_json_is_no_tag(tmp_path):
    objects = {**control_plane(""), TAG_PATH: "not an object"}
    with api_server(tmp_path, objects) as (kubeconfig, _):
        result = run("-f", "-", "--kubeconfig", kubeconfig)
    assert result.returncode == 0, result.stderr
    assert status_revision(result.stdout) == "default"


def test_the_tag_look_up_is_within_the_same_deadline(tmp_path):
    """A server that never answers the tag's GET: the run ends at --timeout, one line."""
    class Silent(JsonApiHandler):
        stop = threading.Event()

        def do_GET(self):  # noqa: N802
            self.stop.wait(60)

    with loopback_server(Silent) as server:
        kubeconfig = tmp_path / "kubeconfig"
        kubeconfig.write_text(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: \"http://127.0.0.1:"
            f"{server.server_port}\"}}\nusers:\n- name: u\n  user: {{}}\ncontexts:\n- name: lab\n"
            "  context: {cluster: c, user: u}\ncurrent-context: lab\n")
        try:
            result = run("-f", "-", "--kubeconfig", str(kubeconfig), "--timeout", "1.5")
        finally:
            Silent.stop.set()
    assert result.returncode == 1
    assert result.stderr == ("Error: the Kubernetes API server (context 'lab') did not answer within 1.5 s "
                             "(see --timeout)\n")


# --- with -r ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("flag, configmap, revision", [("canary", "istio-sidecar-injector-canary", "canary"),
                                                       ("default", "istio-sidecar-injector", "default")])
def test_with_r_no_tag_is_looked_up(tmp_path, flag, configmap, revision):
    objects = {**control_plane(""), **control_plane("canary"), **default_tag("canary")}
    with api_server(tmp_path, objects) as (kubeconfig, asked):
        result = run("-f", "-", "--kubeconfig", kubeconfig, "-r", flag)
        shown = show(kubeconfig, "-r", flag)
    assert result.returncode == 0, result.stderr
    assert TAG_PATH not in asked
    assert configmaps_read(asked)[0] == configmap
    assert status_revision(result.stdout) == revision
    assert shown["revision"] == f"{revision}, from -r/--revision {flag}"


def test_r_default_on_a_cluster_without_the_unrevisioned_control_plane_fails(tmp_path):
    """As istioctl: -r default means the unrevisioned ConfigMaps, whatever the default tag."""
    objects = {**control_plane("canary"), **default_tag("canary")}
    with api_server(tmp_path, objects) as (kubeconfig, _):
        result = run("-f", "-", "--kubeconfig", kubeconfig, "-r", "default")
    assert result.returncode == 1
    assert "ConfigMap 'istio-sidecar-injector' not found" in result.stderr


def test_r_with_a_tag_is_taken_as_a_revision_as_istioctl_takes_it(tmp_path):
    """istioctl 1.30.4's RevisionOrDefault returns -r as given: a tag name is read as a revision
    (istio-TAG, which does not exist): the same failure here, not a resolution istioctl lacks."""
    objects = {**control_plane("canary"), **default_tag("canary")}
    with api_server(tmp_path, objects) as (kubeconfig, asked):
        result = run("-f", "-", "--kubeconfig", kubeconfig, "-r", "prod")
    assert result.returncode == 1
    assert "ConfigMap 'istio-sidecar-injector-prod' not found" in result.stderr
    assert TAG_PATH not in asked


# --- files, offline, config pull -------------------------------------------------------------------

def test_every_piece_from_files_asks_no_cluster(tmp_path):
    files = []
    for name in ("template", "values", "mesh"):
        (tmp_path / name).write_text(TEXTS[name])
        files.append(str(tmp_path / name))
    objects = {**control_plane("canary"), **default_tag("canary")}
    with api_server(tmp_path, objects) as (kubeconfig, asked):
        result = run("-f", "-", "--kubeconfig", kubeconfig, "--injectConfigFile", files[0],
                     "--valuesFile", files[1], "--meshConfigFile", files[2])
    assert result.returncode == 0, result.stderr
    assert asked == []


def test_config_pull_follows_the_default_tag_and_says_how_to_reproduce(tmp_path):
    objects = {**control_plane("canary"), **default_tag("canary")}
    out = tmp_path / "pulled"
    with api_server(tmp_path, objects) as (kubeconfig, _):
        pulled = run("config", "pull", "-o", str(out), "--kubeconfig", kubeconfig, stdin="")
        from_cluster = run("-f", "-", "--kubeconfig", kubeconfig)
    assert pulled.returncode == 0, pulled.stderr
    assert pulled.stdout.startswith("saved istio-sidecar-injector-canary and istio-canary from namespace "
                                    f"istio-system to {out} (revision canary: no -r/--revision; the default "
                                    "revision tag")
    assert f"--meshConfigFile {out}/mesh.yaml -r canary\n" in pulled.stdout
    from_files = run("-f", "-", "--injectConfigFile", str(out / "inject-config.yaml"),
                     "--valuesFile", str(out / "values.yaml"), "--meshConfigFile", str(out / "mesh.yaml"),
                     "-r", "canary")
    assert from_files.returncode == 0, from_files.stderr
    assert from_files.stdout == from_cluster.stdout
