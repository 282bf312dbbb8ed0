"""sparkcourse.tracking: a lesson's own MLflow store, fresh on demand, quiet, with exact serving pins."""

from __future__ import annotations

import sys
from importlib import metadata

import pytest

from sparkcourse import tracking


def test_pins_are_the_installed_versions():
    pins = tracking.pip_requirements()
    assert f"mlflow=={metadata.version('mlflow')}" in pins
    assert f"pyspark=={metadata.version('pyspark')}" in pins
    assert all("==" in pin for pin in pins)


@pytest.mark.slow
def test_a_fresh_store_is_empty_and_experiments_are_reused(tmp_path, monkeypatch):
    import mlflow

    monkeypatch.setenv("SPARKCOURSE_WORKDIR", str(tmp_path))
    store = tracking.local_store("demo_lesson")
    assert store.tracking_uri == f"sqlite:///{tmp_path / 'demo_lesson' / 'mlflow' / 'mlflow.db'}"
    assert mlflow.get_tracking_uri() == store.tracking_uri and (store.folder / "mlflow.db").exists()
    first = tracking.use_experiment("demo", store)
    assert tracking.use_experiment("demo", store) == first, "an existing experiment is reused, not duplicated"
    assert mlflow.get_experiment(first).artifact_location == f"{store.artifact_uri}/demo"
    with mlflow.start_run():
        mlflow.log_metric("m", 1.0)
    (store.folder / "leftover.txt").write_text("from an earlier run")

    again = tracking.local_store("demo_lesson", fresh=True)
    assert not (again.folder / "leftover.txt").exists()
    assert mlflow.get_experiment_by_name("demo") is None, "fresh=True starts from an empty store"


def test_silenced_swallows_library_chatter(capsys):
    with tracking.silenced():
        print("Successfully registered model 'x'.", file=sys.stderr)
        print("progress")
    assert capsys.readouterr() == ("", "")
