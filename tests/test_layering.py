"""The layer rule of DESIGN.md: a layer imports only the layers before it in the table.

Checked on the source with ``ast`` (not by importing), so a violation is caught even where the
import would happen to work. The exact reference must stay independent of everything it checks.
"""

import ast
import pathlib

import pytest

import fxsim

PACKAGE = pathlib.Path(fxsim.__file__).parent

# Layer order (DESIGN.md "Layers"); modules outside the table: constants/errors (shared by all),
# _kernels (the binding). A module of layer L may import fxsim modules of layers <= L.
ORDER = ["reference", "arith", "targets", "ops", "ir", "frontends", "io", "runtime", "calib",
         "techniques", "faces"]
FACES = {"cli", "demo", "report", "testing", "__main__", "__init__"}
SHARED = {"constants", "errors"}


def _layer(module_parts):
    top = module_parts[0]
    if top in SHARED or top == "_kernels":
        return top
    if top in FACES:
        return "faces"
    return top


def _imports(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    rel = path.relative_to(PACKAGE).with_suffix("").parts
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "fxsim":
                    yield tuple(alias.name.split(".")[1:]) or ("__init__",)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                if node.module and node.module.split(".")[0] == "fxsim":
                    parts = tuple(node.module.split(".")[1:])
                    yield parts if parts else tuple([node.names[0].name])
            else:
                base = rel[: len(rel) - node.level]
                mod = tuple(node.module.split(".")) if node.module else ()
                target = base + mod
                if not target:  # "from .. import x" at the package root
                    for alias in node.names:
                        yield (alias.name,)
                else:
                    yield target


SOURCES = sorted(p for p in PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_module_imports_only_earlier_layers(path):
    rel = path.relative_to(PACKAGE).with_suffix("").parts
    own = _layer(rel)
    if own in SHARED:
        allowed = set()
    elif own == "reference":
        allowed = {"constants", "reference"}  # DESIGN: imports nothing of fxsim but constants
    elif own == "faces" or own == "_kernels":
        allowed = None  # the faces may use everything
    else:
        allowed = SHARED | {"_kernels"} | set(ORDER[: ORDER.index(own) + 1]) if own in ORDER else None
    if allowed is None:
        return
    for target in _imports(path):
        layer = _layer(target)
        assert layer in allowed, f"{'/'.join(rel)} (layer {own}) imports fxsim.{'.'.join(target)} (layer {layer})"
