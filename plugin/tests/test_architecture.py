"""The package's import graph keeps the architecture of docs/architecture.md: layers that only
look down, no import cycles, no private names imported from another module, and no imports of
the package's own modules hidden inside functions (they hid cycles before) unless a comment on
that line or the one above says "lazy" and why (start-up time of the command)."""
from __future__ import annotations

import ast
import os

import pytest

PACKAGE = "kubectl_inject"
ROOT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), PACKAGE)

# Layer of each top-level module or subpackage; a module may import its own layer or lower ones.
LAYERS = {
    # 0: Go's standard library behaviour; start-up helpers (patterns compiled on first use, the disk cache)
    "gostd": 0, "lazy_regex": 0, "disk_cache": 0,
    # 1: Go libraries istioctl is built from
    "gotypes": 1, "gotemplate": 1, "goyaml": 1,
    # 2: Istio's configuration, names and template functions
    "errors": 2, "constants": 2, "prometheus": 2, "meshconfig": 2, "templatefuncs": 2,
    "load_config": 2, "template_cache": 2, "cluster_config": 2, "kubeapi": 2, "credential_plugin": 2,
    "config_source": 2,
    "releases": 2,
    # 3: the injection pipeline
    "workloads": 3, "policy": 3, "validate_annotations": 3, "choose_template": 3, "render": 3,
    "merge": 3, "postprocess": 3, "inject": 3, "explain": 3, "parallel": 3,
    # 4: the command line
    "flags": 4, "argparser": 4, "output": 4, "config_cmd": 4, "cli": 4, "__main__": 4, "__init__": 4, "launch": 4,
    "version": 4, "completion": 4,
}


def _modules() -> dict:
    """Dotted module name -> source path, for every module of the package."""
    found = {}
    for directory, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in files:
            if name.endswith(".py"):
                rel = os.path.relpath(os.path.join(directory, name), ROOT)[:-3].split(os.sep)
                if rel[-1] == "__init__" and len(rel) > 1:
                    rel = rel[:-1]
                found[".".join([PACKAGE] + rel)] = os.path.join(directory, name)
    return found


MODULES = _modules()


def _resolve(module: str, path: str, level: int, target: str | None) -> str:
    if level == 0:
        return target or ""
    package = module.split(".")
    if not path.endswith("__init__.py"):
        package = package[:-1]
    base = package[:len(package) - (level - 1)]
    return ".".join(base + ([target] if target else []))


def _internal(name: str) -> str | None:
    """The package module a dotted name refers to (itself, or the module that holds it)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports():
    """(importer, imported module, imported name or None, in a function?, line) for every
    import of a package module."""
    out = []
    for module, path in MODULES.items():
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read(), path)
        source = open(path, encoding="utf-8").read().split("\n")
        functions = {id(n) for fn in ast.walk(tree) if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))
                     for n in ast.walk(fn) if n is not fn}
        for node in ast.walk(tree):
            said = " ".join(source[max(node.lineno - 2, 0):node.lineno]) if hasattr(node, "lineno") else ""
            nested = id(node) in functions and "lazy" not in said.lower()
            if isinstance(node, ast.Import):
                for alias in node.names:
                    target = _internal(alias.name)
                    if target:
                        out.append((module, target, None, nested, node.lineno))
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(module, path, node.level, node.module)
                for alias in node.names:
                    sub = _internal(base + "." + alias.name)
                    if sub and sub == base + "." + alias.name:      # `from pkg import submodule`
                        out.append((module, sub, None, nested, node.lineno))
                    elif _internal(base):
                        out.append((module, _internal(base), alias.name, nested, node.lineno))
    return out


IMPORTS = _imports()


def _layer(module: str) -> int:
    top = module.split(".")[1] if "." in module else "__init__"
    return LAYERS[top]


def test_every_module_has_a_layer():
    unknown = sorted({m.split(".")[1] for m in MODULES if "." in m} - set(LAYERS))
    assert not unknown, f"modules without a layer in LAYERS (and docs/architecture.md): {unknown}"


def test_layers_only_look_down():
    upward = [f"{a}:{line} imports {b}" for a, b, _, _, line in IMPORTS
              if a != PACKAGE and _layer(b) > _layer(a)]
    assert not upward, "\n".join(upward)


def test_no_import_cycles():
    graph: dict = {m: set() for m in MODULES}
    for a, b, _, _, _ in IMPORTS:
        # a package's __init__ importing its own submodules is how it exports them, and a
        # submodule importing a sibling through the package means the sibling
        if a != b and not b.startswith(a + ".") and not (a.startswith(b + ".") and b != PACKAGE):
            graph[a].add(b)
    cycles, state = [], {}

    def visit(node, stack):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append(" -> ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [])
    assert not cycles, "\n".join(cycles)


def test_no_private_names_imported_from_another_module():
    private = [f"{a}:{line} imports {name} from {b}" for a, b, name, _, line in IMPORTS
               if name and name.startswith("_") and not name.startswith("__") and a != b]
    assert not private, "\n".join(private)


def test_no_package_imports_inside_functions():
    hidden = [f"{a}:{line} imports {b}" for a, b, _, nested, line in IMPORTS if nested]
    assert not hidden, "\n".join(hidden)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_size(module):
    """No module over ~600 lines unless its docstring says why ("Size:")."""
    with open(MODULES[module], encoding="utf-8") as f:
        text = f.read()
    lines = text.count("\n")
    if lines > 650:
        doc = ast.get_docstring(ast.parse(text)) or ""
        assert "Size:" in doc, f"{module} has {lines} lines and no 'Size:' reason in its docstring"
