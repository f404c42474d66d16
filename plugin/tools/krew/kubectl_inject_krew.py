"""The krew archive's launcher, after its shell part (kubectl-inject, beside it in the archive's
lib/): checks the interpreter, sets up sys.path, runs the package.

This module must parse on any Python, 2.7 included, so that an interpreter too old for the
package gets one `Error:` line and exit 1 instead of a traceback: no f-strings, no annotations,
no walrus, nothing newer until the version is checked.

It lives in lib/ rather than in the launcher script because a script is compiled on every run
(about 0.3 ms for this code) while a module's bytecode is cached.
"""
import os
import sys

MINIMUM = (3, 10)
PYTHON_ENV = "KUBECTL_INJECT_PYTHON"
# What plugin/kubectl_inject imports from outside the standard library, besides PyYAML (bundled):
# both optional, both lazy (kubeapi.py): only then are the interpreter's site-packages needed.
ON_DEMAND = ("kubernetes", "certifi")


def fail(message):
    sys.stderr.write("Error: " + message + "\n")
    sys.exit(1)


def newer_python():
    """A python3.N (N >= 10) on PATH, for when python3 is too old; None if there is none."""
    for minor in range(20, MINIMUM[1] - 1, -1):
        for directory in os.environ.get("PATH", "").split(os.pathsep):
            candidate = os.path.join(directory or ".", "python3.%d" % minor)
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                return candidate
    return None


def too_old(script):
    found = "Python %d.%d.%d (%s)" % (sys.version_info[:3] + (sys.executable or "python3",))
    # Once only: the interpreter found is run with KUBECTL_INJECT_PYTHON naming it, so if it too
    # is too old (a misleading name), it comes back here and fails instead of searching again.
    if not os.environ.get(PYTHON_ENV):
        other = newer_python()
        if other:
            os.environ[PYTHON_ENV] = other
            os.execv(other, [other, "-S", os.path.abspath(script)] + sys.argv[1:])
    fail("kubectl inject needs Python %d.%d or newer, and found %s: install a newer Python 3, "
         "or set %s to one" % (MINIMUM + (found, PYTHON_ENV)))


class SiteOnDemand(object):
    """Last on sys.meta_path when the interpreter runs with -S: when the package imports one of
    ON_DEMAND and nothing on the bare sys.path has it, the interpreter's site-packages (the
    user's, a venv's, .pth files and all) are added, as `site` would have at start-up, and the
    import tried again. Other failed imports (the standard library probes for optional modules
    on every run) are left alone."""

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if path is not None or name not in ON_DEMAND:
            return None
        add_site_packages()
        import importlib.util
        return importlib.util.find_spec(name)


def add_site_packages():
    if SiteOnDemand in sys.meta_path:
        sys.meta_path.remove(SiteOnDemand)
    import site
    site.main()


def has_libyaml(directory):
    """Whether directory holds a yaml package whose libyaml extension this interpreter loads
    (extension file names carry the interpreter's ABI and platform, so several coexist)."""
    import _imp  # built in: the suffixes without importing importlib.machinery
    stem = os.path.join(directory, "yaml", "_yaml")
    return any(os.path.exists(stem + suffix) for suffix in _imp.extension_suffixes())


def bundled_pythons(bundle):
    """The CPython versions of the bundled extensions (_yaml.cpython-3NN-...), as "3.10, 3.11"."""
    names = os.listdir(os.path.join(bundle, "yaml")) if os.path.isdir(bundle) else []
    minors = set(int(n.split("-")[1][1:]) for n in names if n.startswith("_yaml.cpython-3"))
    return ", ".join("3.%d" % minor for minor in sorted(minors)) or "no Python"


def platform_name():
    import sysconfig  # only on the failure path
    return sysconfig.get_config_var("MULTIARCH") or sysconfig.get_platform()


def use_pyyaml(lib):
    """The bundled PyYAML, second on sys.path, when it has this interpreter's libyaml; else an
    installed PyYAML with libyaml must be there (the package parses with its C parser), or one
    line says what to install."""
    bundle = os.path.join(lib, "pyyaml")
    if has_libyaml(bundle):
        sys.path.insert(sys.path.index(lib) + 1 if lib in sys.path else 0, bundle)
        return
    if sys.flags.no_site:
        add_site_packages()
    if not any(has_libyaml(entry) for entry in sys.path if entry):
        fail("kubectl inject needs PyYAML with its libyaml extension: the one it bundles is for CPython "
             "%s on glibc Linux (x86_64, aarch64), not for this Python (%s %s, %s): install PyYAML for it "
             "(%s -m pip install pyyaml), or set %s to a Python it bundles"
             % (bundled_pythons(bundle), sys.implementation.name, sys.version.split()[0] + sys.abiflags,
                platform_name(), sys.executable, PYTHON_ENV))


def main(script):
    if sys.version_info < MINIMUM:
        too_old(script)
    use_pyyaml(os.path.dirname(os.path.abspath(__file__)))
    if sys.flags.no_site and SiteOnDemand not in sys.meta_path:
        sys.meta_path.append(SiteOnDemand)
    from kubectl_inject.launch import entry
    entry()
