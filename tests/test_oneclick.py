"""Binder (repo2docker) and the devcontainer: files that parse, on the same set-up path as `make lab`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml


def test_binder_environment_brings_python_java_and_make_but_copies_no_pins(root):
    env = yaml.safe_load((root / "binder" / "environment.yml").read_text())
    deps = env["dependencies"]
    assert any(re.fullmatch(r"python=3\.1[1-9]", d) for d in deps if isinstance(d, str))
    assert any(re.fullmatch(r"openjdk=(1[7-9]|2\d)", d) for d in deps if isinstance(d, str))
    assert "make" in deps and "pip" in deps
    assert not any(isinstance(d, dict) for d in deps), "pins come from the bootstrap, not a copy"


def _make_bootstrap(root) -> str:
    """What `make bootstrap` runs (printed, not run)."""
    return subprocess.run(["make", "-n", "bootstrap", "PYTHON=python3"], cwd=root, capture_output=True, text=True,
                          check=True).stdout


def test_postbuild_runs_the_bootstrap_the_makefile_runs(root):
    post = root / "binder" / "postBuild"
    assert os.access(post, os.X_OK), "repo2docker runs postBuild only when it is executable"
    subprocess.run(["bash", "-n", str(post)], check=True)
    text = post.read_text()
    assert 'tools/bootstrap.py' in text and (root / "tools" / "bootstrap.py").is_file()
    assert "tools/bootstrap.py" in _make_bootstrap(root)  # the same entry point


def test_postbuild_sets_up_an_environment_for_real(root, tmp_path):
    """postBuild into this environment (as Binder's NB_PYTHON_PREFIX): kernel, learner lab, workspace."""
    env = {**os.environ, "NB_PYTHON_PREFIX": sys.prefix, "SPARKCOURSE_WORKSPACE": str(tmp_path / "ws")}
    env.pop("VENV", None)
    result = subprocess.run([str(root / "binder" / "postBuild")], env=env, capture_output=True, text=True,
                            timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    kernel = json.loads((Path(sys.prefix) / "share/jupyter/kernels/sparkcourse/kernel.json").read_text())
    assert kernel["argv"][0] == str(Path(sys.prefix) / "bin" / "python")
    page = json.loads((Path(sys.prefix) / "etc/jupyter/labconfig/page_config.json").read_text())
    assert page["lockedExtensions"]["@jupyter/nbgrader:formgrader"] is True
    assert (tmp_path / "ws" / "00_setup" / "00_setup.ipynb").is_file()


def test_postbuild_refuses_without_an_environment(root):
    env = {k: v for k, v in os.environ.items() if k not in ("NB_PYTHON_PREFIX", "CONDA_PREFIX")}
    result = subprocess.run([str(root / "binder" / "postBuild")], env=env, capture_output=True, text=True)
    assert result.returncode == 1 and "which environment" in result.stderr


def test_devcontainer_has_python_311_java_17_and_runs_make_bootstrap(root):
    config = json.loads((root / ".devcontainer" / "devcontainer.json").read_text())
    version = re.search(r"python:\d+-3\.(\d+)", config["image"])
    assert version and int(version.group(1)) >= 11
    assert config["features"]["ghcr.io/devcontainers/features/java:1"]["version"] == "17"
    assert "make bootstrap" in config["postCreateCommand"]
    assert "tools/bootstrap.py" in _make_bootstrap(root)
    assert 4040 in config["forwardPorts"] and 8888 in config["forwardPorts"]
