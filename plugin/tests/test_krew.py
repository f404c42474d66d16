"""The krew archive and manifest that plugin/tools/krew/build.py makes (no network, no Go: krew
itself runs in `make krew-test`).

The archive is built once for this module: with the pinned PyYAML wheels when they are in the
cache (`make krew-test` or a build.py run downloads them), else with a wheel made here from the
venv's own PyYAML (this interpreter's libyaml only); the tests that need the real bundle say so
when they skip. The launcher runs from the extracted archive through a symbolic link, as krew's
$KREW_ROOT/bin/kubectl-inject runs it, and its output is compared with the venv's command.
"""
from __future__ import annotations

import glob
import hashlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile

import pytest
import yaml

from inject_testkit import NGINX_POD, ROOT, kubectl_inject_command


def _load_build():
    """plugin/tools/krew/build.py as the module krew_build (not on sys.path: its plain name,
    `build`, is also PyPA's package's)."""
    path = os.path.join(ROOT, "plugin", "tools", "krew", "build.py")
    spec = importlib.util.spec_from_file_location("krew_build", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = _load_build()

# The interpreter the venv is built on (the venv's own python would add the venv's
# site-packages, where the checkout's kubectl_inject is installed).
BASE_PYTHON = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
EXTENSION = "_yaml" + sysconfig.get_config_var("EXT_SUFFIX")
PYENV = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")


# ---- fixtures -----------------------------------------------------------------------------------

def local_wheel(directory: str) -> dict:
    """A wheel of the venv's PyYAML (yaml/ and its licence): enough to build an archive that
    runs on this interpreter without asking PyPI."""
    package = os.path.dirname(yaml.__file__)
    info = glob.glob(os.path.join(os.path.dirname(package), "[Pp]y[Yy][Aa][Mm][Ll]-*.dist-info"))[0]
    path = os.path.join(directory, "pyyaml-local.whl")
    with zipfile.ZipFile(path, "w") as wheel:
        for name in sorted(os.listdir(package)):
            if os.path.isfile(os.path.join(package, name)):
                wheel.write(os.path.join(package, name), "yaml/" + name)
        wheel.write(os.path.join(info, "licenses", "LICENSE"), os.path.basename(info) + "/licenses/LICENSE")
    return {("local", "local"): path}


def pinned_wheels():
    try:
        return build.wheels(download=False)
    except build.BuildError:
        return None


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(archive, manifest, whether the pinned wheels were bundled)"""
    out = tmp_path_factory.mktemp("dist")
    wheels = pinned_wheels()
    real = wheels is not None
    if not real:
        wheels = local_wheel(str(tmp_path_factory.mktemp("wheel")))
    archive, manifest = build.build(str(out), build.project_version(), wheel_paths=wheels)
    return archive, manifest, real


def extract(archive: str, where) -> str:
    """The archive unpacked as krew does it (store/inject/<v>/), plus krew's link in bin/."""
    store = os.path.join(str(where), "store", "inject", "v")
    os.makedirs(store)
    with tarfile.open(archive) as tar:
        tar.extractall(store)
    os.makedirs(os.path.join(str(where), "bin"))
    link = os.path.join(str(where), "bin", "kubectl-inject")
    os.symlink(os.path.join(store, "kubectl-inject"), link)
    return link


@pytest.fixture(scope="module")
def installed(built, tmp_path_factory):
    return extract(built[0], tmp_path_factory.mktemp("krew-root"))


@pytest.fixture(scope="module")
def pod(tmp_path_factory):
    path = tmp_path_factory.mktemp("input") / "nginx-pod.yaml"
    path.write_text(NGINX_POD)
    return str(path)


@pytest.fixture
def env(tmp_path):
    """What the runs share: no kubeconfig, a HOME of their own (the plugin's disk cache)."""
    home = tmp_path / "home"
    home.mkdir()
    return {"PATH": os.environ["PATH"], "HOME": str(home), "KUBECONFIG": "/nonexistent"}


def run(argv, env, **extra):
    return subprocess.run(argv, capture_output=True, text=True, env={**env, **extra}, timeout=120)


def tree_of(link: str) -> str:
    return os.path.dirname(os.path.realpath(link))


def old_pythons() -> list:
    """[(path, (major, minor))] of the interpreters older than 3.10 on this machine (pyenv's,
    python2, ...): what the launcher must refuse."""
    found = []
    candidates = sorted(glob.glob(os.path.join(PYENV, "versions", "*", "bin", "python")))
    candidates += [p for p in (shutil.which(n) for n in ("python2", "python2.7", "python3.8", "python3.9")) if p]
    for path in candidates:
        proc = subprocess.run([path, "-c", "import sys; print('%d %d' % sys.version_info[:2])"],
                              capture_output=True, text=True)
        version = tuple(map(int, proc.stdout.split())) if proc.returncode == 0 else None
        if version and version < (3, 10):
            found.append((path, version))
    return found


def pyenv_python(version: str):
    paths = sorted(glob.glob(os.path.join(PYENV, "versions", version + ".*", "bin", "python" + version)))
    return paths[-1] if paths else None


# ---- the manifest -------------------------------------------------------------------------------

def test_manifest_is_a_krew_plugin_naming_the_archive_and_its_sha256(built):
    archive, manifest, _ = built
    with open(manifest) as handle:
        plugin = yaml.safe_load(handle)
    assert plugin["apiVersion"] == "krew.googlecontainertools.github.com/v1alpha2"
    assert plugin["kind"] == "Plugin"
    assert plugin["metadata"] == {"name": "inject"}
    spec = plugin["spec"]
    assert spec["version"] == "v" + build.project_version()
    assert spec["shortDescription"] and "\n" not in spec["shortDescription"]
    for text in (spec["description"], spec["caveats"]):
        assert "Python 3.10" in text or "3.10 or newer" in text
        assert "pip install kubernetes" in text or "`kubernetes`" in text
    with open(archive, "rb") as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()
    platforms = {(p["selector"]["matchLabels"]["os"], p["selector"]["matchLabels"]["arch"]): p
                 for p in spec["platforms"]}
    assert set(platforms) == {("linux", "amd64"), ("linux", "arm64")}
    for platform in platforms.values():
        assert platform["sha256"] == digest
        assert platform["bin"] == "kubectl-inject"
        assert platform["uri"] == os.path.basename(archive)


def test_base_url_makes_the_uri_and_version_flag_names_the_files(tmp_path):
    wheels = local_wheel(str(tmp_path))
    archive, manifest = build.build(str(tmp_path / "out"), "2.3.4", base_url="https://example.invalid/rel/",
                                    wheel_paths=wheels)
    assert os.path.basename(archive) == "kubectl-inject-2.3.4.tar.gz"
    with open(manifest) as handle:
        spec = yaml.safe_load(handle)["spec"]
    assert spec["version"] == "v2.3.4"
    assert spec["platforms"][0]["uri"] == "https://example.invalid/rel/kubectl-inject-2.3.4.tar.gz"
    with tarfile.open(archive) as tar:
        metadata = tar.extractfile("lib/kubectl_inject-2.3.4.dist-info/METADATA").read().decode()
    assert "\nVersion: 2.3.4\n" in metadata and "Name: kubectl-inject\n" in metadata


# ---- the archive --------------------------------------------------------------------------------

def package_files() -> dict:
    """{path in the archive: bytes} of every file of plugin/kubectl_inject but bytecode."""
    package = os.path.join(ROOT, "plugin", "kubectl_inject")
    files = {}
    for parent, dirs, names in os.walk(package):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in names:
            if not name.endswith((".pyc", ".pyo")):
                path = os.path.join(parent, name)
                with open(path, "rb") as handle:
                    files["lib/kubectl_inject/" + os.path.relpath(path, package)] = handle.read()
    return files


def test_archive_holds_the_executable_launcher_the_package_and_pyyaml(built):
    with tarfile.open(built[0]) as tar:
        members = {m.name: m for m in tar.getmembers()}
        launcher = members["kubectl-inject"]
        assert launcher.isfile() and launcher.mode & 0o111 == 0o111
        assert tar.extractfile(launcher).read().startswith(b"#!/bin/sh\n")
        expected = package_files()
        archived = {name for name in members if name.startswith("lib/kubectl_inject/") and members[name].isfile()}
        assert archived == set(expected)
        for name, data in expected.items():
            assert tar.extractfile(name).read() == data, name
        assert "lib/pyyaml/yaml/__init__.py" in members
        assert "lib/pyyaml/yaml/" + EXTENSION in members  # this interpreter's libyaml
        assert "LICENSE" in members and "lib/pyyaml/LICENSE" in members
    # what krew can unpack: directories and regular files, no path outside its directory
    for name, member in members.items():
        assert member.isdir() or member.isfile(), name
        assert not name.startswith("/") and ".." not in name.split("/"), name
        assert "__pycache__" not in name and not name.endswith(".pyc"), name


def test_archive_bundles_libyaml_for_cpython_3_10_to_3_15_on_both_arches(built):
    if not built[2]:
        pytest.skip("the pinned PyYAML wheels are not cached (make krew-test or build.py downloads them)")
    with tarfile.open(built[0]) as tar:
        names = set(tar.getnames())
    for minor in range(10, 16):
        for arch in ("x86_64", "aarch64"):
            assert f"lib/pyyaml/yaml/_yaml.cpython-3{minor}-{arch}-linux-gnu.so" in names


def test_the_same_sources_give_the_same_archive(built, tmp_path):
    again, _ = build.build(str(tmp_path), build.project_version(),
                           wheel_paths=pinned_wheels() if built[2] else local_wheel(str(tmp_path)))
    with open(built[0], "rb") as first, open(again, "rb") as second:
        assert hashlib.sha256(first.read()).digest() == hashlib.sha256(second.read()).digest()


def test_a_changed_wheel_in_the_cache_is_refused(tmp_path):
    tag, arch = sorted(build.WHEEL_SHA256)[0]
    directory = build.wheel_cache(str(tmp_path))
    os.makedirs(directory)
    with open(os.path.join(directory, f"pyyaml-{build.PYYAML_VERSION}-{tag}-{tag}-manylinux2014_{arch}.whl"), "wb") as f:
        f.write(b"not the wheel")
    with pytest.raises(build.BuildError, match="sha256"):
        build.wheels(str(tmp_path), download=False)


# ---- the launcher, run from the extracted archive ----------------------------------------------

def assert_same_run(ours, venv):
    assert (ours.returncode, ours.stdout, ours.stderr) == (venv.returncode, venv.stdout, venv.stderr)


def test_launcher_transforms_the_lab_pod_as_the_venv_command_does(installed, pod, env):
    venv = run(kubectl_inject_command() + ["--offline", "-f", pod], env)
    assert venv.returncode == 0, venv.stderr
    ours = run([installed, "--offline", "-f", pod], env, KUBECTL_INJECT_PYTHON=BASE_PYTHON)
    assert_same_run(ours, venv)
    assert "istio-proxy" in ours.stdout


def test_launcher_runs_the_archives_package_and_reports_its_version(installed, env):
    venv = run(kubectl_inject_command() + ["--version"], env)
    ours = run([installed, "--version"], env, KUBECTL_INJECT_PYTHON=BASE_PYTHON)
    assert ours.returncode == 0, ours.stderr
    first = ours.stdout.splitlines()[0]
    # the archive's dist-info, and no checkout's git commit: the archive's copy ran
    assert re.fullmatch(rf"kubectl inject {re.escape(build.project_version())} \(Python [0-9.]+\)", first)
    assert ours.stdout.splitlines()[1:] == venv.stdout.splitlines()[1:]


def test_launcher_writes_bytecode_into_its_tree_even_under_pythondontwritebytecode(built, tmp_path, pod, env):
    link = extract(built[0], tmp_path / "root")
    cache = os.path.join(tree_of(link), "lib", "kubectl_inject", "__pycache__")
    assert not os.path.exists(cache)
    ours = run([link, "--offline", "-f", pod], env, KUBECTL_INJECT_PYTHON=BASE_PYTHON, PYTHONDONTWRITEBYTECODE="1")
    assert ours.returncode == 0, ours.stderr
    tag = sys.implementation.cache_tag
    assert os.path.exists(os.path.join(cache, f"launch.{tag}.pyc"))
    assert os.path.exists(os.path.join(cache, f"inject.{tag}.pyc"))


@pytest.mark.parametrize("version", ["3.10", "3.12", "3.13"])
def test_other_pythons_run_on_their_own_bundled_libyaml(built, installed, pod, env, version):
    python = pyenv_python(version)
    if python is None:
        pytest.skip(f"no Python {version} here (pyenv)")
    if not built[2]:
        pytest.skip("the pinned PyYAML wheels are not cached (make krew-test or build.py downloads them)")
    venv = run(kubectl_inject_command() + ["--offline", "-f", pod], env)
    # -S: no site-packages, so the only PyYAML that interpreter can load is the bundled one
    ours = run([python, "-S", installed, "--offline", "-f", pod], env)
    assert_same_run(ours, venv)


# ---- the launcher's one-line errors -------------------------------------------------------------

def assert_one_line_error(proc, *words):
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("Error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    for word in words:
        assert word in proc.stderr


def test_too_old_python_is_one_error_line(installed, pod, env):
    olds = old_pythons()
    if not olds:
        pytest.skip("no Python older than 3.10 here to run the launcher with")
    for python, version in olds:
        proc = run([installed, "--offline", "-f", pod], env, KUBECTL_INJECT_PYTHON=python)
        assert_one_line_error(proc, "needs Python 3.10 or newer", "found Python %d.%d." % version, python)


def test_a_too_old_python3_gives_way_to_a_versioned_python_on_path(installed, pod, env, tmp_path):
    olds = [path for path, version in old_pythons() if version[0] == 3]
    if not olds:
        pytest.skip("no Python 3 older than 3.10 here")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(olds[-1])
    (bin_dir / f"python3.{sys.version_info[1]}").symlink_to(BASE_PYTHON)
    venv = run(kubectl_inject_command() + ["--offline", "-f", pod], env)
    ours = run([installed, "--offline", "-f", pod], env, PATH=f"{bin_dir}:/usr/bin:/bin")
    assert_same_run(ours, venv)


def test_no_python3_on_path_is_one_error_line(installed, pod, env, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = run([installed, "--offline", "-f", pod], env, PATH=str(empty))
    assert_one_line_error(proc, "no python3 on PATH", "KUBECTL_INJECT_PYTHON")


def test_a_missing_kubectl_inject_python_is_one_error_line(installed, pod, env):
    proc = run([installed, "--offline", "-f", pod], env, KUBECTL_INJECT_PYTHON="/nonexistent/python3")
    assert_one_line_error(proc, "KUBECTL_INJECT_PYTHON", "/nonexistent/python3")


@pytest.fixture
def bare_venv(tmp_path):
    """A venv of the base interpreter without its system site-packages: a Python with no PyYAML."""
    path = tmp_path / "bare-venv"
    subprocess.run([BASE_PYTHON, "-m", "venv", "--without-pip", str(path)], check=True)
    python = str(path / "bin" / "python")
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             capture_output=True, text=True, check=True).stdout.strip()
    return python, purelib


def without_bundled_libyaml(built, where) -> str:
    """An install whose bundle lacks this interpreter's libyaml (as for a Python it does not cover)."""
    link = extract(built[0], where)
    os.remove(os.path.join(tree_of(link), "lib", "pyyaml", "yaml", EXTENSION))
    return link


def test_a_python_without_a_bundled_or_installed_libyaml_is_one_error_line(built, tmp_path, pod, env, bare_venv):
    link = without_bundled_libyaml(built, tmp_path / "root")
    proc = run([link, "--offline", "-f", pod], env, KUBECTL_INJECT_PYTHON=bare_venv[0])
    assert_one_line_error(proc, "needs PyYAML with its libyaml extension", "pip install pyyaml", bare_venv[0])


def test_a_python_the_bundle_lacks_uses_its_own_pyyaml(built, tmp_path, pod, env, bare_venv):
    python, purelib = bare_venv
    shutil.copytree(os.path.dirname(yaml.__file__), os.path.join(purelib, "yaml"))  # "pip install pyyaml"
    link = without_bundled_libyaml(built, tmp_path / "root")
    venv = run(kubectl_inject_command() + ["--offline", "-f", pod], env)
    ours = run([link, "--offline", "-f", pod], env, KUBECTL_INJECT_PYTHON=python)
    assert_same_run(ours, venv)


# ---- site-packages on demand (the launcher runs python3 -S) -------------------------------------

def test_site_packages_come_back_for_the_packages_optional_imports_only(installed, tmp_path):
    """kubernetes (auth-provider users) and certifi, imported lazily by kubeapi.py, are found in
    the user's site-packages although the launcher started Python with -S; a failed probe for
    any other module (as the standard library makes on every run) does not load `site`."""
    userbase = tmp_path / "userbase"
    tag = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    site_packages = userbase / "lib" / tag / "site-packages"
    site_packages.mkdir(parents=True)
    (site_packages / "certifi.py").write_text("def where():\n    return 'from the user site'\n")
    lib = os.path.join(tree_of(installed), "lib")
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import kubectl_inject_krew as k\n"
            "sys.meta_path.append(k.SiteOnDemand)\n"
            "try:\n    import _no_such_module_probe\nexcept ImportError:\n    pass\n"
            "print('site' in sys.modules)\n"
            "import certifi; print(certifi.where(), 'site' in sys.modules)\n")
    proc = subprocess.run([BASE_PYTHON, "-S", "-c", code, lib], capture_output=True, text=True,
                          env={"PATH": os.environ["PATH"], "PYTHONUSERBASE": str(userbase)}, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["False", "from the user site True"]
