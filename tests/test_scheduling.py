"""`make test` hands the longest files to its workers first (tests/schedule.py), and pytest-xdist
keeps that order."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from types import SimpleNamespace

import psutil
import pytest

import conftest
from tests import schedule
from tools import ROOT


def test_every_pytest_n_command_keeps_the_files_order():
    """pytest-xdist's loadfile reorders files by their number of tests unless told not to."""
    commands = [line for makefile in ("Makefile", "tools/learner/Makefile")
                for line in (ROOT / makefile).read_text().splitlines() if "-m pytest -n" in line]
    assert len(commands) == 3
    for command in commands:
        assert re.search(r"--dist loadfile --no-loadscope-reorder\b", command), command


def test_every_timed_file_exists():
    missing = [name for name in schedule.FILE_SECONDS if not (ROOT / name).is_file()]
    assert missing == []


def test_items_go_longest_file_first_and_keep_their_order_within_a_file():
    def item(path: str, name: str):
        return SimpleNamespace(fspath=ROOT / path, name=name)

    items = [item("tests/test_mlflow_projects.py", "a"), item("tests/test_conventions.py", "b"),
             item("solutions/10_mlflow/10_mlflow.ipynb", "Cell 0"), item("tests/test_mlflow_projects.py", "c"),
             item("tests/test_grading_integrity.py", "d"), item("solutions/10_mlflow/10_mlflow.ipynb", "Cell 1")]
    config = SimpleNamespace(getoption=lambda name, default=None: False)
    conftest.pytest_collection_modifyitems(config, items)
    assert [i.name for i in items] == ["d", "Cell 0", "Cell 1", "a", "c", "b"]
    seconds = [schedule.FILE_SECONDS.get(schedule.file_of(i), 0) for i in items]
    assert seconds == sorted(seconds, reverse=True)

    # the files that use Spark go together, at the place of their summed seconds
    spark_files = sorted(schedule.spark_test_files())
    items += [item(spark_files[0], "s1"), item("tests/test_links.py", "l"), item(spark_files[1], "s2")]
    conftest.pytest_collection_modifyitems(config, items)
    names = [i.name for i in items]
    assert names.index("s2") == names.index("s1") + 1
    assert schedule.seconds_of(spark_files[0]) == sum(schedule.FILE_SECONDS.get(f, 0) for f in spark_files)


def test_bench_sums_seconds_per_file_from_junit_xml(tmp_path):
    """What `make bench` prints beside FILE_SECONDS: a lesson's cells and variants count as its notebook."""
    from tools.bench import file_seconds, schedule_table

    junit = tmp_path / "junit.xml"
    junit.write_text("""<testsuites><testsuite>
<testcase classname="solutions.10_mlflow.10_mlflow.ipynb" name="Cell 1" time="40.5"/>
<testcase classname="solutions.10_mlflow.10_mlflow.ipynb" name="ex10_1_test rejects spoofed/wrong/blank" time="2"/>
<testcase classname="tests.test_compare" name="test_a" time="3"/>
<testcase classname="tests.test_conventions.TestSolutionNotebook" name="test_b" time="0.5"/>
</testsuite></testsuites>""")
    seconds = file_seconds(junit)
    assert seconds == {"solutions/10_mlflow/10_mlflow.ipynb": 42.5, "tests/test_compare.py": 3.0,
                       "tests/test_conventions.py": 0.5}
    table = schedule_table(seconds, {"tests/test_compare.py": 16})
    assert table[2:] == ["| solutions/10_mlflow/10_mlflow.ipynb | 42 | - |", "| tests/test_compare.py | 3 | 16 |"]


def test_bench_counts_the_cpu_of_the_processes_a_notebook_starts():
    """make bench's CPU column: the CPU seconds a child process uses meanwhile count (a kernel's,
    its JVM's), also once it has ended; a child that was already running counts only what it uses
    meanwhile (here: nothing)."""
    from tools.bench import Usage

    spin = "import time\nend = time.process_time() + {}\nwhile time.process_time() < end:\n    pass"
    earlier = subprocess.Popen([sys.executable, "-c", spin.format(0.6) + "\ntime.sleep(60)"])
    try:
        deadline = time.monotonic() + 20
        while sum(psutil.Process(earlier.pid).cpu_times()[:2]) < 0.55 and time.monotonic() < deadline:
            time.sleep(0.05)  # until it has used its 0.6 s
        with Usage() as usage:
            subprocess.run([sys.executable, "-c", spin.format(0.3)], check=True)
    finally:
        earlier.kill()
        earlier.wait()
    # sampled every 0.2 s: up to 0.2 s of the child's end can be missed; the earlier one's 0.6 s must not count
    assert 0.1 <= usage.cpu <= 0.55, usage.last


def test_the_fast_tier_leaves_out_notebooks_servers_and_slow_tests():
    """`make test-fast` (both editions) deselects every marker that takes time; each is registered."""
    import tomllib

    registered = {line.split(":")[0] for line in
                  tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["markers"]}
    (tier,) = re.findall(r"^FAST_TIER := (.*)$", (ROOT / "tools/common.mk").read_text(), re.M)
    left_out = set(re.findall(r"not (\w+)", tier))
    assert left_out == {"notebooks", "servers", "slow"}, tier
    assert left_out <= registered
    for makefile in ("Makefile", "tools/learner/Makefile"):
        recipe = (ROOT / makefile).read_text().split("\ntest-fast:")[1].split("\n\n")[0]
        assert '-m "$(FAST_TIER)"' in recipe, (makefile, recipe)


def test_every_test_that_uses_spark_is_in_the_spark_unit(request):
    """The scheduler finds the Spark files by a parameter named `spark`; a test that reaches the
    fixture some other way (a conftest fixture) would start a second JVM on another worker."""
    items = request.session.items
    if "tests/test_checks.py" not in {schedule.file_of(item) for item in items}:
        pytest.skip("this checks the whole suite's collection: run it with the other test files")
    using = {schedule.file_of(item) for item in items if "spark" in getattr(item, "fixturenames", ())}
    assert "tests/test_checks.py" in using
    assert using - schedule.spark_test_files() == set()


class _Worker:
    def __init__(self, name: str):
        self.gateway, self.shutting_down, self.sent = SimpleNamespace(id=name), False, []

    def send_runtest_some(self, indices):
        self.sent += indices

    def shutdown(self):
        self.shutting_down = True


def _scheduler(collection: list[str], workers: list[_Worker]) -> schedule.SparkFilesTogether:
    config = SimpleNamespace(getvalue=lambda name: [f"{len(workers)}*popen"],
                             option=SimpleNamespace(loadscopereorder=False))
    scheduler = schedule.SparkFilesTogether(config)
    for worker in workers:
        scheduler.add_node(worker)
        scheduler.add_node_collection(worker, collection)
    scheduler.schedule()
    return scheduler


def test_the_spark_files_are_one_unit_for_the_spark_worker_and_nobody_waits_for_it():
    spark_files = sorted(schedule.spark_test_files())[:2]
    collection = [f"{spark_files[0]}::a", "tests/test_release.py::b", f"{spark_files[1]}::c", "tests/test_emr.py::d",
                  "tests/test_java.py::e"]
    other, spark_worker = _Worker("gw1"), _Worker(schedule.SPARK_WORKER)
    _scheduler(collection, [other, spark_worker])  # the other worker asks first
    # each worker gets a unit, then another while it has at most two tests to run
    assert (other.sent, spark_worker.sent) == ([1, 3], [0, 2, 4])

    # without the Spark worker (or when the Spark unit is all that is left), another worker takes it
    alone = _Worker("gw1")
    _scheduler(collection, [alone])
    assert alone.sent == [0, 2, 1]
