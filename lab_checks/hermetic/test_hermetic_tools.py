"""Fast checks (no cluster, no Docker) of the helper programs of the hermetic
cluster build: the OCI runtime shim, the archive re-indexer, the registry's
paths, and the kind image names pinned in versions.env."""
import importlib.machinery
import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from hermetic_env import read_versions

HERE = Path(__file__).resolve().parent


def load(name, filename):
    loader = importlib.machinery.SourceFileLoader(name, str(HERE / filename))
    spec = importlib.util.spec_from_loader(name, loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


shim = load("oci_runtime_wrapper", "oci-runtime-wrapper")
archive_index = load("archive_index", "archive-index.py")


def test_shim_names_missing_caps_from_bounding_set(monkeypatch, tmp_path):
    status = tmp_path / "status"
    # every capability but CAP_SYS_RESOURCE (bit 24), as on these machines
    status.write_text("Name:\tx\nCapBnd:\t000001fffeffffff\n")
    real_open = open
    monkeypatch.setattr("builtins.open", lambda p, *a, **k: real_open(status if p == "/proc/self/status" else p, *a, **k))
    assert shim.missing_caps() == {"CAP_SYS_RESOURCE"}


def test_shim_strips_create_bundle_and_exec_process(monkeypatch, tmp_path):
    monkeypatch.setattr(shim, "missing_caps", lambda: {"CAP_SYS_RESOURCE"})
    caps = {k: ["CAP_CHOWN", "CAP_SYS_RESOURCE"] for k in ("bounding", "effective", "permitted")}
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"process": {"capabilities": caps}}))
    shim.fix_file(str(cfg), top_level=False)
    got = json.loads(cfg.read_text())["process"]["capabilities"]
    assert got == {k: ["CAP_CHOWN"] for k in caps}
    proc = tmp_path / "process.json"
    proc.write_text(json.dumps({"capabilities": caps, "args": ["sh"]}))
    shim.fix_file(str(proc), top_level=True)
    assert json.loads(proc.read_text())["capabilities"]["bounding"] == ["CAP_CHOWN"]


def test_shim_execs_real_runtime_with_same_args(tmp_path):
    # A stand-in "runc" records its argv; the shim must pass every argument on.
    fake = tmp_path / "runc"
    fake.write_text("#!/bin/sh\necho \"$@\" > \"$LAB_ARGS_OUT\"\n")
    fake.chmod(0o755)
    bundle = tmp_path / "b"
    bundle.mkdir()
    (bundle / "config.json").write_text(json.dumps({"process": {"capabilities": {"bounding": ["CAP_SYS_RESOURCE"]}}}))
    out = tmp_path / "args"
    env = dict(os.environ, LAB_REAL_RUNC=str(fake), LAB_ARGS_OUT=str(out))
    args = ["--root", "/r", "--log", "/l", "create", "--bundle", str(bundle), "--pid-file", "/p", "id1"]
    subprocess.run([sys.executable, str(HERE / "oci-runtime-wrapper"), *args], check=True, env=env)
    assert out.read_text().split() == args


def test_qualify_names():
    q = archive_index.qualify
    assert q("nginx:latest") == ("docker.io/library/nginx", "latest")
    assert q("kindest/kindnetd:v1") == ("docker.io/kindest/kindnetd", "v1")
    assert q("registry.k8s.io/pause:3.10") == ("registry.k8s.io/pause", "3.10")
    assert q("localhost:5001/x/y:t") == ("localhost:5001/x/y", "t")
    assert q("localhost:5001/x/y") == ("localhost:5001/x/y", "latest")


def _add(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def test_archive_index_puts_full_names_first(tmp_path):
    src, dst = tmp_path / "in.tar", tmp_path / "out.tar"
    manifest = [{"Config": "c1.json", "RepoTags": ["kindest/kindnetd:v1"], "Layers": ["l1/layer.tar"]},
                {"Config": "c2.json", "RepoTags": ["registry.k8s.io/pause:3.10"], "Layers": ["l2/layer.tar"]}]
    with tarfile.open(src, "w") as t:
        for n in ("l1/layer.tar", "l2/layer.tar", "c1.json", "c2.json"):
            _add(t, n, b"x")
        _add(t, "manifest.json", json.dumps(manifest).encode())
        _add(t, "repositories", b"{}")
    archive_index.main(str(src), str(dst))
    with tarfile.open(dst) as t:
        names = t.getnames()
        assert names[0] == "repositories"
        repos = json.load(t.extractfile("repositories"))
        assert repos == {"docker.io/kindest/kindnetd": {"v1": "l1"}, "registry.k8s.io/pause": {"3.10": "l2"}}
        assert json.load(t.extractfile("manifest.json"))[0]["RepoTags"] == ["docker.io/kindest/kindnetd:v1"]
        assert sorted(names) == sorted(["repositories", "manifest.json", "l1/layer.tar", "l2/layer.tar", "c1.json", "c2.json"])


def test_registry_paths_and_mirror_config(tmp_path):
    """Images are served under their usual path; containerd mirrors the public
    registries (and localhost:PORT) to the lab registry by its network name."""
    env = dict(os.environ, LAB_CACHE=str(tmp_path), LAB_REGISTRY_NAME="reg-x", LAB_REGISTRY_PORT="5999")
    script = (f". {HERE}/registry-up.sh hosts-dir >/dev/null; "
              "for i in nginx docker.io/library/nginx:latest kindest/kindnetd:v1 "
              "registry.k8s.io/pause:3.10 registry.k8s.io/coredns/coredns:v1.12.1 "
              "localhost:5999/istio/pilot:t quay.io/a/b:c; do strip_host $i; done")
    out = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["library/nginx", "library/nginx:latest", "kindest/kindnetd:v1", "pause:3.10",
                           "coredns/coredns:v1.12.1", "istio/pilot:t", "a/b:c"]
    hosts = tmp_path / "containerd-certs.d"
    for reg in ("docker.io", "registry.k8s.io", "quay.io", "localhost:5999"):
        text = (hosts / reg / "hosts.toml").read_text()
        assert '[host."http://reg-x:5000"]' in text
        assert 'capabilities = ["pull", "resolve"]' in text


# Where kind v0.30.0's source names the images the pins in versions.env stand for: versions.env key ->
# (file in the sigs.k8s.io/kind module, pattern whose group is the image name).
KIND_IMAGE_SOURCES = {
    "KIND_KINDNETD_IMAGE": ("pkg/build/nodeimage/const_cni.go", r'^const kindnetdImage = "(.*)"'),
    "KIND_LOCAL_PATH_PROVISIONER_IMAGE": ("pkg/build/nodeimage/const_storage.go",
                                          r'^const storageProvisionerImage = "(.*)"'),
    "KIND_LOCAL_PATH_HELPER_IMAGE": ("pkg/build/nodeimage/const_storage.go", r'^const storageHelperImage = "(.*)"'),
    "KIND_SANDBOX_IMAGE": ("images/base/files/etc/containerd/config.toml", r'^\s*sandbox_image = "(.*)"'),
}


def go_module_caches() -> list[Path]:
    """The lab's Go module cache (lib.sh's GOMODCACHE, which build-go-tools.sh fills), then go's own."""
    lab = subprocess.run(["bash", "-c", f'. {HERE}/lib.sh && echo "$GOMODCACHE"'],
                         capture_output=True, text=True, check=True).stdout.strip()
    go = shutil.which("go")
    default = subprocess.run([go, "env", "GOMODCACHE"], capture_output=True, text=True).stdout.strip() if go else ""
    return [Path(p) for p in (lab, default) if p]


def test_pinned_kind_image_names_are_those_of_kinds_source():
    """The node image must carry the CNI, storage and sandbox images under the very names kind's
    manifests and containerd config ask for; versions.env pins them, kind's source defines them."""
    pinned = read_versions(HERE / "versions.env")
    places = [cache / "sigs.k8s.io" / f"kind@{pinned['KIND_VERSION']}" for cache in go_module_caches()]
    src = next((p for p in places if p.is_dir()), None)
    if src is None:
        pytest.skip("kind's module source is not in a local Go module cache (looked in "
                    + ", ".join(map(str, places)) + "); make cluster-images downloads it")
    for key, (path, pattern) in KIND_IMAGE_SOURCES.items():
        found = re.findall(pattern, (src / path).read_text(), re.MULTILINE)
        assert found == [pinned[key]], f"{key}={pinned[key]} in versions.env, kind's {path} says {found}"
