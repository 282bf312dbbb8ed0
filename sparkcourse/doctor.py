"""``python -m sparkcourse doctor``: what this machine has for the course, and what is wrong."""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata

from sparkcourse.java import JavaError, find_java
from sparkcourse.session import cds_archive_path, driver_memory, foreign_spark, host_memory, usable_memory

PACKAGES = ["pyspark", "nbgrader", "mlflow", "pandas", "numpy", "jupyterlab"]


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


#: What Spark's linear algebra (netlib) loads for native BLAS and LAPACK on Linux.
NATIVE_BLAS = ("libblas.so.3", "liblapack.so.3")


def native_blas() -> bool:
    """Whether Spark will find native BLAS and LAPACK; without them it uses slower Java code (same results)."""
    import ctypes

    try:
        for library in NATIVE_BLAS:
            ctypes.CDLL(library)
    except OSError:
        return False
    return True


def python_requirement() -> str:
    """The Python versions the course supports, as pyproject.toml's requires-python states them."""
    return metadata.metadata("sparkcourse")["Requires-Python"]


def report() -> tuple[str, list[str]]:
    lines, problems = [], []
    py = ".".join(map(str, sys.version_info[:3]))
    lines.append(f"Python      {py}  ({sys.executable})")
    needed = python_requirement()
    if sys.version_info[:2] < tuple(int(part) for part in needed.removeprefix(">=").split(".")):
        problems.append(f"Python {py} is too old: the course needs Python {needed} (pyproject.toml).")
    try:
        java = find_java()
        lines.append(f"Java        {java.version}  ({java.java}, from {java.source})")
        archive = cds_archive_path(java)
        lines.append(f"JVM cache   {'ready' if archive.exists() else 'not built: run python -m sparkcourse warmup'}"
                     f"  ({archive})")
    except JavaError as exc:
        lines.append("Java        none usable")
        problems.append(str(exc))
    for package in PACKAGES:
        version = _version(package)
        lines.append(f"{package:<11} {version or 'not installed'}")
        if version is None:
            problems.append(f"{package} is not installed: run make lab (or make test) to bootstrap.")
    try:
        spark_problems = foreign_spark()
    except ImportError:
        spark_problems = []  # pyspark missing: said above
    if spark_problems:
        lines.append("Spark       NOT the course's: " + "; ".join(p.split(":")[0] for p in spark_problems))
        problems += spark_problems
    elif _version("pyspark"):
        lines.append("Spark       the course's pyspark (no other Spark on SPARK_HOME or PYTHONPATH)")
    pandas = _version("pandas")
    if pandas and int(pandas.split(".")[0]) >= 3:
        problems.append("pandas >= 3 makes pyspark warn on every conversion: install the pinned pandas<3.")
    usable, source = usable_memory()
    if usable is None:
        lines.append("Memory      unknown")
    else:
        memory = usable / 2**30
        host = host_memory()
        where = (f"container limit; the machine has {host / 2**30:.1f} GiB" if source == "container limit"
                 else "machine")
        driver = os.environ.get("SPARKCOURSE_MEMORY") or driver_memory(usable)
        lines.append(f"Memory      {memory:.1f} GiB ({where}); Spark driver gets {driver}")
        if memory < 4:
            problems.append(f"Only {memory:.1f} GiB of memory ({where}): Spark lessons want 4 GiB or more "
                            "(a container: give it more, e.g. docker run --memory 4g; WSL: .wslconfig).")
    lines.append(f"Cores       {os.cpu_count()}")
    if platform.system() == "Linux":
        lines.append("BLAS        " + ("native (ALS runs on it)" if native_blas() else
                                       "Java fallback: ALS (lessons 08-09) fits about 3x faster with a native one, "
                                       "e.g. sudo apt install libopenblas0-pthread; results are the same"))
    from sparkcourse.links import describe

    lines.append(f"Web UIs     {describe()}")
    lines.append(f"System      {platform.system()} {platform.release()} ({platform.machine()})")
    if problems:
        lines.append("\nProblems:")
        lines += [f"- {p}" for p in problems]
    else:
        lines.append("\nAll good.")
    return "\n".join(lines), problems
