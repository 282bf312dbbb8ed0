"""One source of pins: pyproject.toml, locked with every indirect package in requirements/constraints.txt;
environment.yml installs through both instead of copying them (conda installed everything twice)."""

from __future__ import annotations

import re
import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


def _pyproject_pins(root):
    deps = tomllib.loads((root / "pyproject.toml").read_text())["project"]["dependencies"]
    return {str(Requirement(d)) for d in deps}


def _environment_pip_lines(root):
    text = (root / "environment.yml").read_text()
    block = text.split("- pip:", 1)[1]
    return [m.strip() for m in re.findall(r"^\s+- ([^#]+)", block, flags=re.M)]


def test_environment_yml_installs_through_the_lock_and_pyproject(root):
    """No copy of the pins: the lock as constraints and this project (its pins) in editable mode,
    so `make lab VENV=$CONDA_PREFIX` finds everything installed (tools/bootstrap.py checks)."""
    assert _environment_pip_lines(root) == ["-c requirements/constraints.txt", "-e ."]
    assert "==" not in (root / "environment.yml").read_text()
    assert (root / "requirements" / "constraints.txt").is_file()


def test_every_pin_is_exact_and_locked_at_the_same_version(root):
    lock = {}
    for line in (root / "requirements" / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            lock[canonicalize_name(name)] = version
    for pin in map(Requirement, _pyproject_pins(root)):
        spec = list(pin.specifier)
        assert len(spec) == 1 and spec[0].operator == "==", f"{pin} should be pinned with =="
        assert lock.get(canonicalize_name(pin.name)) == spec[0].version, f"{pin} differs from the lock"


def test_pandas_is_below_3(root):
    pins = {Requirement(p).name: Requirement(p) for p in _pyproject_pins(root)}
    assert not pins["pandas"].specifier.contains("3.0.0"), "pyspark 4.3 warns on stderr with pandas 3"


def test_conda_environment_has_python_311_and_java_17(root):
    text = (root / "environment.yml").read_text()
    assert re.search(r"^\s+- python=3\.1[1-9]", text, flags=re.M)
    assert re.search(r"^\s+- openjdk=(1[7-9]|2\d)", text, flags=re.M)


def test_importing_nbformat_or_jupyter_builds_no_grammar():
    """jsonschema 4.25+ imports rfc3987-syntax, which compiles its IRI grammars (lark) at import:
    1-3 CPU-s in every nbgrader run, grading worker and Jupyter server. The pin keeps it out."""
    import sys

    import jsonschema._format  # noqa: F401  (where the import happens)
    import jupyter_events.validators  # noqa: F401  (what jupyter_server loads)
    import nbformat  # noqa: F401

    assert "rfc3987_syntax" not in sys.modules and "lark" not in sys.modules
