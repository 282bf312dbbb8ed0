"""docs/architecture.md's table of the helpers package is complete and true: every module is listed
once, and no module imports one from a higher layer (the table's order of layers)."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from tools import ROOT

PACKAGE = ROOT / "sparkcourse"


def _layers() -> dict[str, int]:
    """module -> rank of its layer, from the table's rows (layers ranked in order of appearance)."""
    ranks, modules = {}, {}
    for layer, names in re.findall(r"^\| (\w+) \| (`[^|]+`) \|", (ROOT / "docs" / "architecture.md").read_text(), re.M):
        ranks.setdefault(layer, len(ranks))
        for name in re.findall(r"`(\w+)`", names):
            assert name not in modules, f"{name} is listed twice"
            modules[name] = ranks[layer]
    modules["__init__"] = modules["session"]  # it re-exports get_spark
    return modules


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "sparkcourse":
            found.add(node.module.split(".")[1] if "." in node.module else "__init__")
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] if "." in a.name else "__init__"
                      for a in node.names if a.name.split(".")[0] == "sparkcourse"}
    return found


def test_every_module_is_in_the_architecture_table():
    assert sorted(set(_layers()) - {"__init__"}) == sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")


def test_no_module_imports_from_a_higher_layer():
    layers = _layers()
    upward = [f"{p.stem} -> {name}" for p in sorted(PACKAGE.glob("*.py")) for name in sorted(_imports(p) - {p.stem})
              if layers[name] > layers[p.stem]]
    assert upward == []
