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
