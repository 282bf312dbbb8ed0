"""make doctor: the native BLAS line (ALS is about 3x faster with one; results are the same)."""

from __future__ import annotations

import platform

import pytest

from sparkcourse import doctor


def test_native_blas_is_found_only_when_every_library_loads(monkeypatch):
    monkeypatch.setattr(doctor, "NATIVE_BLAS", ("libc.so.6",))
    assert doctor.native_blas() is True
    monkeypatch.setattr(doctor, "NATIVE_BLAS", ("libc.so.6", "libno-such-blas.so.3"))
    assert doctor.native_blas() is False


@pytest.mark.skipif(platform.system() != "Linux", reason="netlib's library names are Linux ones")
def test_report_says_which_blas_spark_uses(monkeypatch):
    monkeypatch.setattr(doctor, "NATIVE_BLAS", ("libno-such-blas.so.3",))
    text, _ = doctor.report()
    assert "BLAS        Java fallback" in text and "libopenblas0-pthread" in text
    monkeypatch.setattr(doctor, "NATIVE_BLAS", ("libc.so.6",))
    text, problems = doctor.report()
    assert "BLAS        native" in text
    assert not any("BLAS" in p for p in problems)


def test_report_names_the_container_limit_and_the_driver_it_gives(monkeypatch):
    monkeypatch.setattr(doctor, "usable_memory", lambda: (2 * 2**30, "container limit"))
    monkeypatch.setattr(doctor, "host_memory", lambda: 64 * 2**30)
    monkeypatch.delenv("SPARKCOURSE_MEMORY", raising=False)
    text, problems = doctor.report()
    assert "Memory      2.0 GiB (container limit; the machine has 64.0 GiB); Spark driver gets 1g" in text
    assert any("Only 2.0 GiB of memory (container limit" in p for p in problems)


def test_report_says_what_to_unset_for_a_foreign_spark(tmp_path, monkeypatch):
    home = tmp_path / "spark"
    (home / "jars").mkdir(parents=True)
    (home / "jars" / "spark-core_2.12-3.5.0.jar").write_bytes(b"")
    monkeypatch.setenv("SPARK_HOME", str(home))
    text, problems = doctor.report()
    assert "Spark       NOT the course's" in text
    assert any("unset SPARK_HOME" in p for p in problems)
    monkeypatch.delenv("SPARK_HOME")
    text, problems = doctor.report()
    assert "Spark       the course's pyspark" in text and not any("SPARK_HOME" in p for p in problems)


def test_the_python_floor_is_pyproject_s_requires_python(monkeypatch):
    import tomllib

    from tools import ROOT, bootstrap

    floor = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert doctor.python_requirement() == floor and floor == ">=%d.%d" % bootstrap.MIN_PYTHON
    monkeypatch.setattr(doctor, "python_requirement", lambda: ">=3.99")
    assert any("needs Python >=3.99" in problem for problem in doctor.report()[1])
