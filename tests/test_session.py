"""get_spark: laptop settings, environment overrides, reuse, and the JVM start-up levers."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from sparkcourse import session
from sparkcourse.java import JavaInstall


def test_defaults_are_small_and_deterministic():
    conf = session.build_conf("demo", env={})
    assert conf["spark.master"] == "local[2]"
    assert conf["spark.default.parallelism"] == "2"
    assert conf["spark.sql.shuffle.partitions"] == "4"
    assert conf["spark.sql.session.timeZone"] == "UTC"
    assert conf["spark.ui.showConsoleProgress"] == "false"
    assert conf["spark.ui.enabled"] == "true"
    assert "-Duser.timezone=UTC" in conf["spark.driver.extraJavaOptions"]
    assert "-XX:TieredStopAtLevel=1" in conf["spark.driver.extraJavaOptions"]
    assert "-XX:ReservedCodeCacheSize=256m" in conf["spark.driver.extraJavaOptions"]  # C1's 48 MB fills up
    # C1 frames are larger: ALS on MovieLens overflowed task threads' default 1 MB stack (tests/test_recommend.py)
    assert "-Xss8m" in conf["spark.driver.extraJavaOptions"].split()
    assert "-Xss8m" in conf["spark.executor.extraJavaOptions"].split()


def test_environment_overrides():
    conf = session.build_conf("demo", env={
        "SPARKCOURSE_CORES": "4", "SPARK_MASTER": "spark://127.0.0.1:7077",
        "SPARKCOURSE_UI": "0", "SPARKCOURSE_FAST_JVM": "0"})
    assert conf["spark.master"] == "spark://127.0.0.1:7077"
    assert conf["spark.default.parallelism"] == "4"
    assert conf["spark.ui.enabled"] == "false"
    assert "TieredStopAtLevel" not in conf["spark.driver.extraJavaOptions"]


def test_keyword_settings_win():
    conf = session.build_conf("demo", env={}, **{"spark.sql.shuffle.partitions": 8})
    assert conf["spark.sql.shuffle.partitions"] == "8"


def test_class_data_archive_is_used_only_when_present(tmp_path, monkeypatch):
    java = JavaInstall(tmp_path / "bin" / "java", tmp_path, 17, "PATH", 'openjdk version "17"')
    archive = tmp_path / "spark.jsa"
    monkeypatch.setattr(session, "cds_archive_path", lambda _java: archive)
    assert "SharedArchiveFile" not in session.build_conf("demo", java=java, env={})["spark.driver.extraJavaOptions"]
    archive.write_bytes(b"x")
    assert f"-XX:SharedArchiveFile={archive}" in session.build_conf("demo", java=java, env={})["spark.driver.extraJavaOptions"]
    dump = session.build_conf("demo", java=java, env={}, dump_cds_to=tmp_path / "new.jsa")["spark.driver.extraJavaOptions"]
    assert f"-XX:ArchiveClassesAtExit={tmp_path / 'new.jsa'}" in dump and "SharedArchiveFile" not in dump


def test_archive_is_keyed_on_the_jvm(tmp_path):
    a = JavaInstall(tmp_path / "a" / "java", tmp_path, 17, "PATH", 'openjdk version "17.0.1"')
    b = JavaInstall(tmp_path / "a" / "java", tmp_path, 17, "PATH", 'openjdk version "17.0.2"')
    assert session.cds_archive_path(a) != session.cds_archive_path(b)


def test_archive_is_keyed_on_the_jar_files(tmp_path):
    """The JVM rejects an archive whose jars were reinstalled: a new install needs a new archive."""
    java = JavaInstall(tmp_path / "java", tmp_path, 17, "PATH", 'openjdk version "17"')
    first, second = tmp_path / "venv1" / "jars", tmp_path / "venv2" / "jars"
    for jars in (first, second):
        jars.mkdir(parents=True)
        (jars / "spark-core.jar").write_bytes(b"same bytes")
    os.utime(second / "spark-core.jar", ns=(1, 1))
    key = session.cds_archive_path(java, first)
    assert key == session.cds_archive_path(java, first)
    assert key != session.cds_archive_path(java, second), "another install (other path) must get its own archive"
    shutil.copy2(first / "spark-core.jar", second / "spark-core.jar")
    os.utime(first / "spark-core.jar", ns=(2_000_000_000, 2_000_000_000))
    assert key != session.cds_archive_path(java, first), "a reinstalled jar (new mtime) must change the key"


@pytest.mark.parametrize("gib, expected", [(2, "1g"), (8, "2g"), (24, "4g"), (256, "4g")])
def test_driver_memory_fits_the_machine(gib, expected):
    assert session.driver_memory(gib * 2**30) == expected


def test_remote_uses_spark_connect(monkeypatch):
    calls = []

    class FakeBuilder:
        def remote(self, url):
            calls.append(("remote", url))
            return self

        def appName(self, name):
            calls.append(("appName", name))
            return self

        def config(self, key, value):
            calls.append((key, value))
            return self

        def getOrCreate(self):
            return "connect-session"

    from pyspark.sql import SparkSession

    monkeypatch.setenv("SPARK_REMOTE", "sc://127.0.0.1:15002")
    monkeypatch.setattr(SparkSession, "getActiveSession", classmethod(lambda cls: None))
    monkeypatch.setattr(SparkSession, "builder", FakeBuilder())
    assert session.get_spark("remote-demo") == "connect-session"
    assert ("remote", "sc://127.0.0.1:15002") in calls and ("spark.sql.session.timeZone", "UTC") in calls


def test_real_session_has_the_settings_and_is_reused(spark):
    from sparkcourse import get_spark

    assert get_spark("another-name") is spark
    assert spark.sparkContext.master == "local[2]"
    assert spark.conf.get("spark.sql.shuffle.partitions") == "4"
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"
    assert spark.sparkContext.getConf().get("spark.ui.showConsoleProgress") == "false"
    numbers = spark.range(10)
    assert numbers.groupBy((numbers.id % 2).alias("k")).count().count() == 2


@pytest.mark.slow
def test_a_kernel_with_a_spark_session_shuts_down_at_once():
    """At shutdown ipykernel ends the kernel's children and waits until none is left. A Spark JVM
    that pyspark never waits for stays a zombie once ended, so the kernel kept signalling it for 29 s
    (its 14.4 s of retries, twice); nbgrader and JupyterLab killed it after waiting 2.5 s."""
    import time

    import psutil
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="sparkcourse")
    try:
        reply = kc.execute_interactive("from sparkcourse import get_spark\n\nspark = get_spark('shutdown-test')\n"
                                       "spark.range(3).count()", timeout=120)
        assert reply["content"]["status"] == "ok", reply["content"]
        kernel = psutil.Process(km.provisioner.process.pid)
        assert [c.name() for c in kernel.children()] == ["java"]  # the session's JVM, started by the kernel
        started = time.monotonic()
        kc.shutdown()  # what a graceful shutdown sends first
        km.provisioner.process.wait(timeout=30)
        took = time.monotonic() - started
        assert took < 10, f"the kernel took {took:.1f} s to end after its shutdown request"
    finally:
        kc.stop_channels()
        if km.is_alive():
            km.shutdown_kernel(now=True)


def test_paths_with_spaces_stay_one_jvm_option(tmp_path, monkeypatch):
    monkeypatch.setenv("SPARKCOURSE_WORKDIR", str(tmp_path / "My Courses" / "work"))
    options = session.java_options(fast=False)
    assert f'"-Dderby.system.home={tmp_path / "My Courses" / "work" / "derby"}"' in options


def test_of_archives_without_an_owner_file_the_newest_are_kept(tmp_path):
    from sparkcourse.warmup import prune_archives

    for age, name in enumerate(["spark-new.jsa", "spark-mid.jsa", "spark-old.jsa", "spark-oldest.jsa"]):
        (tmp_path / name).write_bytes(b"x")
        os.utime(tmp_path / name, (1_000_000 - age * 1000, 1_000_000 - age * 1000))
    (tmp_path / "notes.txt").write_text("not an archive")
    removed = prune_archives(tmp_path, keep=2)
    assert sorted(p.name for p in removed) == ["spark-old.jsa", "spark-oldest.jsa"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "spark-mid.jsa", "spark-new.jsa"]


def test_archives_of_installs_that_still_exist_are_kept_stale_ones_removed(tmp_path):
    """One clone's set-up must not delete another clone's archive; a removed or reinstalled
    pyspark's archive goes."""
    from sparkcourse.warmup import owner, prune_archives

    java = tmp_path / "jdk" / "bin" / "java"
    java.parent.mkdir(parents=True)
    java.write_text("")

    def archive_for(clone: str) -> Path:
        jars = tmp_path / clone / "jars"
        jars.mkdir(parents=True)
        (jars / "spark-core_2.13-4.3.0.jar").write_bytes(b"core")
        archive = tmp_path / "jvm" / f"spark-{session.archive_key(str(java), 'openjdk 17', jars)}.jsa"
        archive.parent.mkdir(exist_ok=True)
        archive.write_bytes(b"x")
        owner(archive).write_text(json.dumps({"java": str(java), "raw": "openjdk 17", "jars": str(jars)}))
        return archive

    live = [archive_for(f"clone{i}") for i in range(4)]
    removed_clone, reinstalled = archive_for("removed"), archive_for("reinstalled")
    shutil.rmtree(tmp_path / "removed")
    (tmp_path / "reinstalled" / "jars" / "spark-core_2.13-4.3.0.jar").write_bytes(b"a new build")

    assert sorted(prune_archives(tmp_path / "jvm", keep=2)) == sorted([removed_clone, reinstalled])
    assert sorted(p.name for p in (tmp_path / "jvm").iterdir()) == sorted(
        [a.name for a in live] + [owner(a).name for a in live])


def test_an_owner_file_that_cannot_be_written_does_not_stop_the_set_up(tmp_path, monkeypatch):
    from sparkcourse.warmup import owner, record_owner

    archive = tmp_path / "spark-0123456789abcdef.jsa"
    archive.write_bytes(b"x")

    def refused(*args, **kwargs):
        raise PermissionError("read-only cache")

    monkeypatch.setattr(Path, "write_text", refused)
    record_owner(archive, JavaInstall(java=tmp_path / "java", home=tmp_path, version=17, source="PATH", raw="openjdk 17"))
    assert archive.exists() and not owner(archive).exists()


def test_executors_get_the_drivers_start_up_options():
    """On a cluster, executor JVMs start with the same archive and levers as the driver."""
    fast = session.build_conf("x", env={"SPARKCOURSE_FAST_JVM": "1"})
    slow = session.build_conf("x", env={"SPARKCOURSE_FAST_JVM": "0"})
    assert "-XX:TieredStopAtLevel=1" in fast["spark.executor.extraJavaOptions"]
    assert "-XX:TieredStopAtLevel=1" not in slow["spark.executor.extraJavaOptions"]
    for conf in (fast, slow):
        assert "-Duser.timezone=UTC" in conf["spark.executor.extraJavaOptions"]


# --- Another Spark than the pinned one (docker-stacks' pyspark-notebook, an old Spark install) ---

def _docker_stacks(tmp_path, version="3.5.0"):
    """The docker-stacks layout: SPARK_HOME=/usr/local/spark with its own python/pyspark on PYTHONPATH."""
    home = tmp_path / "usr" / "local" / "spark"
    (home / "jars").mkdir(parents=True)
    (home / "jars" / f"spark-core_2.13-{version}.jar").write_bytes(b"")
    (home / "python" / "pyspark").mkdir(parents=True)
    (home / "python" / "pyspark" / "__init__.py").write_text(f"__version__ = {version!r}\n")
    return home


def test_the_pinned_pyspark_is_pyprojects(root):
    import tomllib

    deps = tomllib.loads((root / "pyproject.toml").read_text())["project"]["dependencies"]
    assert f"pyspark[connect]=={session.PINNED_PYSPARK}" in deps


def test_this_environment_has_no_foreign_spark():
    env = {k: v for k, v in os.environ.items() if k not in ("SPARK_HOME", "PYTHONPATH")}
    assert session.foreign_spark(env) == []


def test_docker_stacks_pyspark_on_pythonpath_is_refused_with_what_to_unset(tmp_path):
    home = _docker_stacks(tmp_path)
    env = {"SPARK_HOME": str(home), "PYTHONPATH": f"{home / 'python'}:{home / 'python/lib/py4j.zip'}"}
    problems = session.foreign_spark(env, pyspark_dir=home / "python" / "pyspark", pyspark_version="3.5.0",
                                     prefix=str(tmp_path / "venv"))
    assert len(problems) == 2, problems
    assert "pyspark 3.5.0 is imported from" in problems[0] and f"unset PYTHONPATH (it holds {home / 'python'})" in problems[0]
    assert f"SPARK_HOME={home} is Spark 3.5.0" in problems[1] and "unset SPARK_HOME" in problems[1]


def test_a_spark_home_of_another_version_is_caught_even_with_the_right_pyspark(tmp_path):
    import pyspark

    home = _docker_stacks(tmp_path, "4.0.1")
    problems = session.foreign_spark({"SPARK_HOME": str(home)})
    assert len(problems) == 1 and "Spark 4.0.1, not the course's 4.3.0" in problems[0]
    # Spark's own RELEASE file when no jar says it; the course's own pyspark folder is fine.
    (home / "jars" / "spark-core_2.13-4.0.1.jar").unlink()
    (home / "RELEASE").write_text("Spark 3.4.1 (git revision 6b1ff22dde) built for Hadoop 3.3.4\n")
    assert "Spark 3.4.1" in session.foreign_spark({"SPARK_HOME": str(home)})[0]
    assert session.foreign_spark({"SPARK_HOME": str(Path(pyspark.__file__).parent)}) == []


def test_a_pyspark_from_outside_the_environment_is_named_even_at_the_pinned_version(tmp_path):
    elsewhere = tmp_path / "site-packages" / "pyspark"
    problems = session.foreign_spark({}, pyspark_dir=elsewhere, pyspark_version=session.PINNED_PYSPARK,
                                     prefix=str(tmp_path / "venv"))
    assert len(problems) == 1 and f"use the course's environment: {tmp_path / 'venv'}/bin/python" in problems[0]


def test_get_spark_refuses_a_foreign_spark_before_starting_one(tmp_path, monkeypatch):
    from pyspark.sql import SparkSession

    home = _docker_stacks(tmp_path)
    monkeypatch.setenv("SPARK_HOME", str(home))
    monkeypatch.delenv("SPARK_REMOTE", raising=False)
    monkeypatch.setattr(SparkSession, "getActiveSession", classmethod(lambda cls: None))
    monkeypatch.setattr(session, "ensure_java_home", lambda: pytest.fail("went on to start Spark"))
    with pytest.raises(session.ForeignSparkError, match="unset SPARK_HOME"):
        session.get_spark("foreign")
    monkeypatch.setenv("SPARKCOURSE_FOREIGN_SPARK", "1")  # the escape hatch warns instead
    with pytest.warns(UserWarning, match="starting anyway"):
        session.check_spark()


def test_docker_stacks_layout_in_a_real_interpreter(tmp_path):
    """A Python started as the docker-stacks image starts it imports the foreign pyspark; get_spark says so."""
    import subprocess
    import sys

    home = _docker_stacks(tmp_path)
    env = {**os.environ, "SPARK_HOME": str(home), "PYTHONPATH": str(home / "python")}
    env.pop("SPARKCOURSE_FOREIGN_SPARK", None)
    result = subprocess.run([sys.executable, "-c", "from sparkcourse import get_spark; get_spark()"],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "ForeignSparkError" in result.stderr and "pyspark 3.5.0 is imported from" in result.stderr
    assert "unset PYTHONPATH" in result.stderr and "unset SPARK_HOME" in result.stderr


# --- Memory: the container's limit, not the host's ---

def _cgroup(tmp_path, proc_line, files):
    (tmp_path / "proc" / "self").mkdir(parents=True)
    (tmp_path / "proc" / "self" / "cgroup").write_text(proc_line + "\n")
    for name, text in files.items():
        path = tmp_path / "sys" / "fs" / "cgroup" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")
    return tmp_path


def test_cgroup_v2_limit_in_a_container(tmp_path):
    root = _cgroup(tmp_path, "0::/", {"memory.max": str(2 * 2**30)})
    assert session.cgroup_memory_limit(root) == 2 * 2**30


def test_cgroup_v2_nested_group_and_no_limit(tmp_path):
    root = _cgroup(tmp_path, "0::/user.slice/user-1000.slice/session-3.scope", {
        "memory.max": "max",  # no "max" file at the real root; a fake one says no limit
        "user.slice/memory.max": str(6 * 2**30),
        "user.slice/user-1000.slice/session-3.scope/memory.max": "max"})
    assert session.cgroup_memory_limit(root) == 6 * 2**30
    (root / "sys/fs/cgroup/user.slice/memory.max").write_text("max\n")
    assert session.cgroup_memory_limit(root) is None


def test_cgroup_v1_limit_and_its_no_limit_value(tmp_path):
    root = _cgroup(tmp_path, "12:memory:/docker/abc\n11:cpu,cpuacct:/docker/abc",
                   {"memory/memory.limit_in_bytes": str(3 * 2**30)})
    assert session.cgroup_memory_limit(root) == 3 * 2**30
    (root / "sys/fs/cgroup/memory/memory.limit_in_bytes").write_text("9223372036854771712\n")
    assert session.cgroup_memory_limit(root) is None


def test_no_cgroup_files_no_limit(tmp_path):
    assert session.cgroup_memory_limit(tmp_path) is None


def test_a_2gb_container_on_a_big_host_gets_a_1g_driver(tmp_path, monkeypatch):
    root = _cgroup(tmp_path, "0::/", {"memory.max": str(2 * 2**30)})
    monkeypatch.setattr(session, "host_memory", lambda: 64 * 2**30)
    assert session.usable_memory(root) == (2 * 2**30, "container limit")
    monkeypatch.setattr(session, "usable_memory", lambda root=None: (2 * 2**30, "container limit"))
    assert session.build_conf("x", env={})["spark.driver.memory"] == "1g"
    assert session.build_conf("x", env={"SPARKCOURSE_MEMORY": "3g"})["spark.driver.memory"] == "3g"


def test_a_limit_above_the_host_memory_is_not_used(tmp_path, monkeypatch):
    root = _cgroup(tmp_path, "0::/", {"memory.max": str(64 * 2**30)})
    monkeypatch.setattr(session, "host_memory", lambda: 16 * 2**30)
    assert session.usable_memory(root) == (16 * 2**30, "machine")
