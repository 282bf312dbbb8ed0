"""tools/bootstrap.py, the one set-up path of `make lab`, conda, Binder's postBuild and the devcontainer."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tools import bootstrap


def test_a_step_that_takes_long_says_what_it_is_then_how_long(capsys):
    started = time.monotonic()
    bootstrap.run_with_ticks("Warming up (usually 1-3 min)", sys.executable, "-c", "import time; time.sleep(0.9)",
                             every=0.25)
    out = capsys.readouterr().out
    assert time.monotonic() - started >= 0.9
    assert "[setup] Warming up (usually 1-3 min)" in out and re.search(r"^    \.\.\. \d+ s$", out, re.M), out


def test_a_quick_step_stays_quiet(capsys):
    bootstrap.run_with_ticks("never shown", sys.executable, "-c", "pass", every=5)
    assert "never shown" not in capsys.readouterr().out


def test_pip_shows_its_progress():
    source = Path(bootstrap.__file__).read_text()
    assert '"-q"' not in source, "pip -q made the first make lab minutes of silence"


def test_an_empty_environment_is_not_taken_for_an_installed_one(tmp_path):
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "env")], check=True)
    assert bootstrap.installed(tmp_path / "env" / "bin" / "python") is False
    assert bootstrap.installed(tmp_path / "missing" / "bin" / "python") is False


def test_the_pins_come_from_pyproject_and_are_all_locked():
    locked = {line.split("==")[0].lower().replace("_", "-") for line in bootstrap.locked()}
    for pin in bootstrap.pins():
        assert pin.split("==")[0].split("[")[0].lower() in locked, pin


def _page_config():
    path = Path(sys.prefix, "etc", "jupyter", "labconfig", "page_config.json")
    if not path.exists():
        pytest.skip("this environment was not set up by tools/bootstrap.py")
    return json.loads(path.read_text())


def test_learner_lab_has_instructor_tools_and_assignment_list_disabled_and_locked():
    """Disabled and locked at the environment's level: the Plugin Manager cannot turn them back on."""
    config = _page_config()
    for plugin in bootstrap.LEARNER_HIDDEN_LAB_PLUGINS:
        assert config.get("disabledExtensions", {}).get(plugin) is True, f"{plugin} is not disabled"
        assert config.get("lockedExtensions", {}).get(plugin) is True, f"{plugin} is not locked"
    assert "@jupyter/nbgrader:validate-assignment" not in config.get("disabledExtensions", {})


def test_learner_lab_has_no_news_pop_up():
    overrides = Path(sys.prefix, "share", "jupyter", "lab", "settings", "overrides.json")
    _page_config()
    settings = json.loads(overrides.read_text())["@jupyterlab/apputils-extension:notification"]
    assert settings["fetchNews"] == "false" and settings["checkForUpdates"] is False


def test_configure_lab_writes_what_jupyters_commands_write_and_keeps_other_settings(tmp_path):
    labconfig = tmp_path / "etc" / "jupyter" / "labconfig" / "page_config.json"
    labconfig.parent.mkdir(parents=True)
    labconfig.write_text(json.dumps({"disabledExtensions": {"some-other:plugin": True}}))
    bootstrap.configure_lab(tmp_path)
    bootstrap.configure_lab(tmp_path)  # again: the same result
    config = json.loads(labconfig.read_text())
    assert config["disabledExtensions"]["some-other:plugin"] is True
    assert set(config["lockedExtensions"]) == set(bootstrap.LEARNER_HIDDEN_LAB_PLUGINS)
    assert "@jupyter/nbgrader:assignment-list" in config["disabledExtensions"]
    server = tmp_path / "etc/jupyter/jupyter_server_config.d/nbgrader.server_extensions.assignment_list.json"
    assert json.loads(server.read_text()) == {
        "ServerApp": {"jpserver_extensions": {"nbgrader.server_extensions.assignment_list": False}}}


# In a fresh Python: what `sparkcourse java --ensure` and `warmup` load, with the workload's own
# imports as written in sparkcourse/warmup.py and what toPandas() loads; prints the top-level modules
# that were not loaded at start-up.
WARMUP_IMPORTS = """
import ast, importlib, inspect, json, sys
before = set(sys.modules)
import sparkcourse.__main__, sparkcourse.java, sparkcourse.warmup
workload = ast.parse(inspect.getsource(sparkcourse.warmup._workload_and_dump))
for node in ast.walk(workload):
    for name in ([a.name for a in node.names] if isinstance(node, ast.Import)
                 else [node.module] if isinstance(node, ast.ImportFrom) else []):
        importlib.import_module(name)
import pyspark.sql.pandas.conversion, pandas, pyarrow
print(json.dumps(sorted({m.split(".")[0] for m in set(sys.modules) - before})))
"""


def _requirements_closure(names: list[str]) -> set[str]:
    """The distributions ``pip install names`` brings: them and their requirements, without extras."""
    found, todo = set(), [canonicalize_name(n) for n in names]
    while todo:
        name = todo.pop()
        if name in found:
            continue
        found.add(name)
        for text in metadata.requires(name) or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(canonicalize_name(requirement.name))
    return found


def test_the_packages_installed_before_the_warm_up_are_all_it_imports(root):
    """On a first install the warm-up runs while pip installs everything but WARMUP_PACKAGES."""
    loaded = json.loads(subprocess.run([sys.executable, "-c", WARMUP_IMPORTS], cwd=root, capture_output=True,
                                       text=True, check=True).stdout)
    owners = metadata.packages_distributions()
    needed = {canonicalize_name(dist) for module in loaded for dist in owners.get(module, [])}
    assert {"pyspark", "pandas", "pyarrow"} <= needed  # the check sees what the workload loads
    assert needed - {"sparkcourse"} <= _requirements_closure(bootstrap.WARMUP_PACKAGES)
