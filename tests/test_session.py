"""get_spark: laptop settings, environment overrides, reuse, and the JVM start-up levers."""

from __future__ import annotations

import os
import shutil

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


def test_paths_with_spaces_stay_one_jvm_option(tmp_path, monkeypatch):
    monkeypatch.setenv("SPARKCOURSE_WORKDIR", str(tmp_path / "My Courses" / "work"))
    options = session.java_options(fast=False)
    assert f'"-Dderby.system.home={tmp_path / "My Courses" / "work" / "derby"}"' in options


def test_only_the_newest_archives_are_kept(tmp_path):
    from sparkcourse.warmup import prune_archives

    for age, name in enumerate(["spark-new.jsa", "spark-mid.jsa", "spark-old.jsa", "spark-oldest.jsa"]):
        (tmp_path / name).write_bytes(b"x")
        os.utime(tmp_path / name, (1_000_000 - age * 1000, 1_000_000 - age * 1000))
    (tmp_path / "notes.txt").write_text("not an archive")
    removed = prune_archives(tmp_path, keep=2)
    assert sorted(p.name for p in removed) == ["spark-old.jsa", "spark-oldest.jsa"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "spark-mid.jsa", "spark-new.jsa"]


def test_executors_get_the_drivers_start_up_options():
    """On a cluster, executor JVMs start with the same archive and levers as the driver."""
    fast = session.build_conf("x", env={"SPARKCOURSE_FAST_JVM": "1"})
    slow = session.build_conf("x", env={"SPARKCOURSE_FAST_JVM": "0"})
    assert "-XX:TieredStopAtLevel=1" in fast["spark.executor.extraJavaOptions"]
    assert "-XX:TieredStopAtLevel=1" not in slow["spark.executor.extraJavaOptions"]
    for conf in (fast, slow):
        assert "-Duser.timezone=UTC" in conf["spark.executor.extraJavaOptions"]
