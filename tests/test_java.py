"""Java detection and the fallback decision, offline, with fake `java` executables."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from sparkcourse import java as javamod


def fake_java(home: Path, version_line: str, exit_code: int = 0) -> Path:
    """A JAVA_HOME whose bin/java prints ``version_line`` like `java -version` (to stderr)."""
    exe = home / "bin" / "java"
    exe.parent.mkdir(parents=True, exist_ok=True)
    exe.write_text(f"#!/bin/sh\necho '{version_line}' >&2\nexit {exit_code}\n")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return exe


@pytest.mark.parametrize("text, expected", [
    ('openjdk version "17.0.15" 2025-04-15', 17),
    ('openjdk version "21" 2023-09-19', 21),
    ('java version "1.8.0_392"', 8),
    ('openjdk version "11.0.2" 2019-01-15', 11),
    ('Picked up JAVA_TOOL_OPTIONS: -Xmx1g\nopenjdk version "25.0.1" 2025-10-21', 25),
    ("not java at all", None),
])
def test_parse_java_version(text, expected):
    assert javamod.parse_java_version(text) == expected


def test_old_java_on_java_home_is_reported_with_fixes(tmp_path):
    fake_java(tmp_path / "jdk11", 'openjdk version "11.0.2" 2019-01-15')
    env = {"JAVA_HOME": str(tmp_path / "jdk11"), "PATH": ""}
    with pytest.raises(javamod.JavaError) as err:
        javamod.find_java(env, jdk_dir=tmp_path / "none")
    message = str(err.value)
    assert "Java 11 (too old, need 17+)" in message
    assert "conda install -c conda-forge openjdk=17" in message
    assert "python -m sparkcourse java --install" in message


def test_no_java_at_all_says_so(tmp_path):
    with pytest.raises(javamod.JavaError, match="no java on JAVA_HOME or PATH"):
        javamod.find_java({"PATH": ""}, jdk_dir=tmp_path / "none")


def test_java_that_does_not_run_is_not_used(tmp_path):
    fake_java(tmp_path / "broken", "Error: could not find libjava.so", exit_code=1)
    with pytest.raises(javamod.JavaError, match="does not run"):
        javamod.find_java({"JAVA_HOME": str(tmp_path / "broken"), "PATH": ""}, jdk_dir=tmp_path / "none")


def test_new_java_on_path_beats_old_java_home(tmp_path):
    fake_java(tmp_path / "jdk11", 'openjdk version "11.0.2"')
    good = fake_java(tmp_path / "jdk21", 'openjdk version "21.0.1"')
    env = {"JAVA_HOME": str(tmp_path / "jdk11"), "PATH": str(good.parent)}
    found = javamod.find_java(env, jdk_dir=tmp_path / "none")
    assert (found.version, found.source) == (21, "PATH")


def test_ensure_java_home_points_spark_at_the_java_found(tmp_path, monkeypatch):
    good = fake_java(tmp_path / "jdk17", 'openjdk version "17.0.9"')
    env = {"PATH": str(good.parent)}
    monkeypatch.setattr(javamod, "local_jdk_dir", lambda: tmp_path / "none")
    found = javamod.ensure_java_home(env)
    assert env["JAVA_HOME"] == str((tmp_path / "jdk17").resolve()) == str(found.home)


def test_project_local_jdk_is_found(tmp_path):
    fake_java(tmp_path / ".jdk" / "jdk-17.0.13+11", 'openjdk version "17.0.13"')
    found = javamod.find_java({"PATH": ""}, jdk_dir=tmp_path / ".jdk")
    assert (found.version, found.source) == (17, ".jdk")


def test_decide_uses_first_usable_then_installs_then_fails(tmp_path):
    old = javamod.JavaInstall(Path("/x/bin/java"), Path("/x"), 11, "JAVA_HOME")
    new = javamod.JavaInstall(Path("/y/bin/java"), Path("/y"), 17, "PATH")
    assert javamod.decide([old, new], may_download=True).install == new
    assert javamod.decide([old], may_download=True).action == "install"
    failed = javamod.decide([old], may_download=False)
    assert failed.action == "fail" and "Java 11" in failed.message


def test_ensure_java_fetches_only_when_allowed(tmp_path, monkeypatch):
    monkeypatch.setattr(javamod, "candidates", lambda *a, **k: [])
    fetched = javamod.JavaInstall(tmp_path / "bin/java", tmp_path, 17, ".jdk")
    monkeypatch.setattr(javamod, "install_local_jdk", lambda: fetched)
    assert javamod.ensure_java(may_download=True) is fetched
    monkeypatch.setenv("SPARKCOURSE_NO_JDK_DOWNLOAD", "1")
    with pytest.raises(javamod.JavaError, match="Spark 4 needs Java 17"):
        javamod.ensure_java()


def test_machine_java_is_usable():
    """The machine running the tests has the Java the course needs (else Spark tests cannot run)."""
    found = javamod.find_java()
    assert found.version >= javamod.MIN_JAVA


# --- macOS: /usr/libexec/java_home and Homebrew's keg-only openjdk ---

def fake_java_home_tool(path: Path, answer: Path | None) -> Path:
    """A /usr/libexec/java_home that answers `-v 17+` with ``answer`` (exit 1 when None, as macOS does)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = f"echo '{answer}'\nexit 0" if answer else "echo 'Unable to find any JVMs matching version \"17+\".' >&2\nexit 1"
    path.write_text(f"#!/bin/sh\n[ \"$1\" = -v ] && [ \"$2\" = 17+ ] || exit 2\n{body}\n")
    path.chmod(0o755)
    return path


def test_macos_java_home_tool_is_asked_for_17_plus(tmp_path):
    home = tmp_path / "Library/Java/JavaVirtualMachines/temurin-17.jdk/Contents/Home"
    fake_java(home, 'openjdk version "17.0.12" 2024-07-16')
    tool = fake_java_home_tool(tmp_path / "usr/libexec/java_home", home)
    found = javamod.find_java({"PATH": ""}, jdk_dir=tmp_path / "none", java_home_tool=tool, brew_prefixes=())
    assert (found.version, found.source, found.home) == (17, "java_home", home.resolve())


def test_java_home_tool_without_a_17_falls_through_to_the_fixes(tmp_path):
    tool = fake_java_home_tool(tmp_path / "java_home", None)
    with pytest.raises(javamod.JavaError) as err:
        javamod.find_java({"PATH": ""}, jdk_dir=tmp_path / "none", java_home_tool=tool, brew_prefixes=())
    assert "brew install openjdk@17" in str(err.value) and "/usr/libexec/java_home -v 17+" in str(err.value)


@pytest.mark.parametrize("prefix, keg", [("opt/homebrew", "openjdk@17"), ("usr/local", "openjdk@17"),
                                         ("opt/homebrew", "openjdk")])
def test_homebrew_keg_outside_path_is_found(tmp_path, prefix, keg):
    """`brew install openjdk@17` links nothing onto PATH: its keg's JDK is found where brew put it."""
    home = tmp_path / prefix / "opt" / keg / "libexec/openjdk.jdk/Contents/Home"
    fake_java(home, 'openjdk version "17.0.16" 2025-07-15' if "17" in keg else 'openjdk version "24.0.2"')
    found = javamod.find_java({"PATH": ""}, jdk_dir=tmp_path / "none", java_home_tool=tmp_path / "none",
                              brew_prefixes=(tmp_path / "opt/homebrew", tmp_path / "usr/local"))
    assert found.source == "Homebrew" and found.home == home.resolve() and found.usable


def test_java_on_path_still_wins_over_homebrew(tmp_path):
    fake_java(tmp_path / "opt/homebrew/opt/openjdk@17/libexec/openjdk.jdk/Contents/Home", 'openjdk version "17.0.1"')
    on_path = fake_java(tmp_path / "jdk21", 'openjdk version "21.0.1"')
    found = javamod.find_java({"PATH": str(on_path.parent)}, jdk_dir=tmp_path / "none",
                              java_home_tool=tmp_path / "none", brew_prefixes=(tmp_path / "opt/homebrew",))
    assert found.source == "PATH"


def test_an_old_homebrew_java_is_listed_with_the_fixes(tmp_path):
    fake_java(tmp_path / "usr/local/opt/openjdk", 'openjdk version "11.0.2"')  # the keg's bin/java
    with pytest.raises(javamod.JavaError) as err:
        javamod.find_java({"PATH": ""}, jdk_dir=tmp_path / "none", java_home_tool=tmp_path / "none",
                          brew_prefixes=(tmp_path / "usr/local",))
    assert "Homebrew:" in str(err.value) and "Java 11 (too old, need 17+)" in str(err.value)
