"""The notebooks' shared JVM (tests/shared_jvm.py): a lesson's kernel joins it, nothing else does,
and what a lesson leaves in it is named."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from sparkcourse.session import SHARED_JVM
from tests.shared_jvm import SharedJvm, lesson_problems

pytestmark = pytest.mark.notebooks


@pytest.fixture(scope="module")
def jvm():
    shared = SharedJvm()
    shared.address()
    yield shared
    shared.close()


def run_as_kernel(jvm: SharedJvm, code: str, folder) -> list[str]:
    """``code`` in a new Python process that has the shared JVM's address, as a lesson's kernel has."""
    env = {**os.environ, SHARED_JVM: jvm.address()}
    done = subprocess.run([sys.executable, "-c", "from sparkcourse import get_spark\n" + code], env=env, cwd=folder,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.split()


def test_a_kernel_starts_its_session_in_the_shared_jvm_and_its_children_do_not_see_it(jvm, tmp_path):
    pid, child_sees, app = run_as_kernel(jvm, """
import os, subprocess, sys
spark = get_spark("joined")
print(spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid())
print(subprocess.run([sys.executable, "-c", "import os; print(os.environ.get('SPARKCOURSE_SHARED_JVM'))"],
                     capture_output=True, text=True).stdout.strip())
print(spark.sparkContext.appName)
spark.stop()""", tmp_path)
    assert int(pid) == jvm.gateway.proc.pid  # launch_gateway's process is the JVM itself
    assert child_sees == "None"  # a model server or spark-submit it starts gets a JVM of its own
    assert app == "joined"
    assert lesson_problems(jvm) == []


def test_a_session_left_running_and_a_relative_path_are_named_and_cleared(jvm, tmp_path):
    run_as_kernel(jvm, """
spark = get_spark("careless")
spark.range(3).write.parquet("relative_output")""", tmp_path)
    assert lesson_problems(jvm) == [
        "its Spark session (careless) is still running after the last cell: end with spark.stop()",
        "Spark wrote to relative paths (the JVM's working folder): ['relative_output']"]
    assert lesson_problems(jvm) == []  # cleared: the next lesson starts its own session
    run_as_kernel(jvm, 'spark = get_spark("next")\nprint(spark.range(2).count())\nspark.stop()', tmp_path)
