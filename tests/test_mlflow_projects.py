"""examples/penguins_project: an MLflow Project that MLflow reads, with the course's pins, that runs.

Lesson 10 runs it with ``mlflow.projects.run(..., env_manager="local")``: nothing is installed or
downloaded, the job runs in this environment, logs into the given store and ends with its JVM.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
import time
import tomllib
from pathlib import Path

import psutil
import pytest

from processes import commands, gone_within
from sparkcourse import tracking
from tools import ROOT

PROJECT = ROOT / "examples" / "penguins_project"


def _load_project():
    from mlflow.projects.utils import load_project

    return load_project(str(PROJECT))


def _train_module():
    spec = importlib.util.spec_from_file_location("penguins_project_train", PROJECT / "train.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_mlflow_reads_the_entry_point_with_typed_parameters():
    project = _load_project()
    assert project.name == "penguins"
    main = project.get_entry_point("main")
    assert {name: (p.type, p.default) for name, p in main.parameters.items()} == {
        "reg_param": ("float", 0.01), "seed": ("int", 42)}
    assert main.compute_command({}, None) == "python train.py --reg-param 0.01 --seed 42"
    assert main.compute_command({"reg_param": 0.5}, None) == "python train.py --reg-param 0.5 --seed 42"
    assert project.env_type == "python_env" and Path(project.env_config_path).name == "python_env.yaml"


def test_the_scripts_defaults_are_the_entry_points():
    defaults = _train_module().parse_args([])
    main = _load_project().get_entry_point("main")
    assert (defaults.reg_param, defaults.seed) == (main.parameters["reg_param"].default, main.parameters["seed"].default)
    with pytest.raises(SystemExit):
        _train_module().parse_args(["--reg-param", "-1"])


def test_the_environment_file_pins_what_the_course_pins():
    from mlflow.utils.environment import _PythonEnv

    env = _PythonEnv.from_yaml(str(PROJECT / "python_env.yaml"))
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    course = {re.split(r"[\[=]", pin)[0]: pin for pin in pyproject["dependencies"]}
    assert env.dependencies, "python_env.yaml lists no packages"
    for pin in env.dependencies:
        name = re.split(r"[\[=]", pin)[0]
        assert course.get(name) == pin, f"{pin} in python_env.yaml, {course.get(name)} in pyproject.toml"
    assert {"mlflow", "pyspark", "pandas"} <= {re.split(r"[\[=]", pin)[0] for pin in env.dependencies}
    assert pyproject["requires-python"] == f">={env.python}", "the project's Python is the course's floor"


def test_this_python_puts_this_interpreter_first_and_restores_path(monkeypatch):
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    with tracking.this_python():
        assert os.environ["PATH"].split(os.pathsep)[0] == str(Path(sys.executable).parent)
    assert os.environ["PATH"] == "/usr/bin:/bin"
    monkeypatch.delenv("PATH")
    with tracking.this_python():
        assert os.environ["PATH"] == str(Path(sys.executable).parent)
    assert "PATH" not in os.environ


@pytest.mark.servers  # starts a Python process with its own Spark
def test_the_project_runs_with_local_env_manager_and_leaves_nothing_behind(tmp_path, monkeypatch):
    """The lesson's call, from a PATH without the virtualenv (as under pytest or a grader)."""
    import mlflow

    monkeypatch.setenv("SPARKCOURSE_WORKDIR", str(tmp_path))
    monkeypatch.setenv("SPARKCOURSE_UI", "0")
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    store = tracking.local_store("projects_test", fresh=True)
    experiment_id = tracking.use_experiment("penguin-sex", store)
    with tracking.this_python():
        submitted = mlflow.projects.run(str(PROJECT), parameters={"reg_param": 0.5}, experiment_id=experiment_id,
                                        run_name="project-test", env_manager="local", synchronous=False)
    # Every process of the job (its shell, Python, the JVM), seen while it runs; not the helpers of
    # this process (MLflow's git reader keeps a `git cat-file` of its own until it is collected).
    job = psutil.Process(submitted.command_proc.pid)
    started = {job.pid}
    while submitted.get_status() == "RUNNING":
        try:
            started |= {p.pid for p in job.children(recursive=True)}
        except psutil.NoSuchProcess:
            break
        time.sleep(0.2)
    assert submitted.wait(), f"the project run failed (status {submitted.get_status()})"
    assert len(started) >= 2, "the job ran in processes of its own"

    run = mlflow.MlflowClient().get_run(submitted.run_id)
    assert run.info.status == "FINISHED" and run.info.run_name == "project-test"
    assert run.data.params == {"reg_param": "0.5", "seed": "42", "regParam": "0.5"}
    assert 0.9 < run.data.metrics["val_auc"] <= 1.0 and 0.5 < run.data.metrics["val_accuracy"] <= 1.0
    assert run.data.tags["mlflow.source.type"] == "PROJECT"
    assert run.data.tags["mlflow.project.entryPoint"] == "main"
    info = mlflow.models.get_model_info(f"runs:/{submitted.run_id}/model")
    assert set(info.flavors) == {"spark", "python_function"}
    assert [c.name for c in info.signature.inputs] == ["species", "island", "bill_length_mm", "bill_depth_mm",
                                                       "flipper_length_mm", "body_mass_g"]
    assert not list(PROJECT.glob("spark-warehouse")) and not list(PROJECT.glob("metastore_db")), \
        "the job wrote into the project folder"
    # The JVM ends on its own once its Python has exited (its stdin closes), a moment after the run
    # is reported done; a process still running after the grace period was left behind.
    left = gone_within(started, seconds=30)
    assert not left, f"processes left behind: {commands(left)}"
