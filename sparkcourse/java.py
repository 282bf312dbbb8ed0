"""Find a Java that Spark 4 can use (17 or newer), or say exactly how to get one.

Order of search: ``JAVA_HOME``, then ``java`` on ``PATH``, then on macOS what
``/usr/libexec/java_home -v 17+`` names, then Homebrew's kegs (``brew install openjdk@17`` puts
Java outside ``PATH``: ``/opt/homebrew/opt/openjdk@17``, ``/usr/local/opt/openjdk@17``, and
``openjdk``), then a project-local JDK in ``.jdk/`` (which ``python -m sparkcourse java --install``
fetches with the ``install-jdk`` package where the internet is reachable). The first Java 17+ wins; Spark is pointed at it
through ``JAVA_HOME``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sparkcourse.paths import project_root

MIN_JAVA = 17
#: The JDK the project fetches when a machine has none.
LOCAL_JDK_VERSION = "17"
#: macOS's tool that names installed JDKs.
JAVA_HOME_TOOL = Path("/usr/libexec/java_home")
#: Homebrew prefixes: Apple silicon, Intel Macs, Linux.
BREW_PREFIXES = (Path("/opt/homebrew"), Path("/usr/local"), Path("/home/linuxbrew/.linuxbrew"))
BREW_KEGS = ("openjdk@17", "openjdk@21", "openjdk")


class JavaError(RuntimeError):
    """No usable Java: the message says what was found and how to fix it."""


@dataclass(frozen=True)
class JavaInstall:
    java: Path  # the java executable
    home: Path  # its JAVA_HOME
    version: int | None  # feature version (8, 11, 17, 21, ...); None if it would not run
    source: str  # where it was found: JAVA_HOME, PATH or .jdk
    raw: str = ""  # first line of `java -version`

    @property
    def usable(self) -> bool:
        return self.version is not None and self.version >= MIN_JAVA

    def describe(self) -> str:
        if self.version is None:
            return f"{self.source}: {self.java} (does not run: {self.raw or 'no output'})"
        verdict = "ok" if self.usable else f"too old, need {MIN_JAVA}+"
        return f"{self.source}: {self.java} -> Java {self.version} ({verdict})"


def parse_java_version(text: str) -> int | None:
    """The feature version from ``java -version`` output: '1.8.0_392' -> 8, '17.0.9' -> 17."""
    match = re.search(r'version "(\d+)(?:\.(\d+))?', text)
    if not match:
        return None
    major = int(match.group(1))
    if major == 1 and match.group(2):  # the old 1.x scheme
        return int(match.group(2))
    return major


def probe(java: Path, source: str) -> JavaInstall:
    """Run ``java -version`` and describe what it is."""
    java = Path(java)
    home = java.resolve().parent.parent
    try:
        out = subprocess.run(
            [str(java), "-version"], capture_output=True, text=True, timeout=30, check=False
        )
        text = (out.stderr or "") + (out.stdout or "")
    except (OSError, subprocess.SubprocessError) as exc:
        return JavaInstall(java, home, None, source, str(exc))
    first = text.strip().splitlines()[0] if text.strip() else ""
    return JavaInstall(java, home, parse_java_version(text), source, first)


def local_jdk_dir() -> Path:
    """Where the project keeps a JDK it fetched itself (git-ignored)."""
    return Path(os.environ.get("SPARKCOURSE_JDK_DIR") or project_root() / ".jdk")


def macos_java_home(tool: Path = JAVA_HOME_TOOL) -> Path | None:
    """The JDK 17+ that macOS's ``java_home -v 17+`` names, if the tool is there and finds one."""
    if not Path(tool).exists():
        return None
    try:
        out = subprocess.run([str(tool), "-v", f"{MIN_JAVA}+"], capture_output=True, text=True,
                             timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    home = out.stdout.strip().splitlines()[-1] if out.returncode == 0 and out.stdout.strip() else ""
    return Path(home) if home else None


def brew_javas(prefixes=BREW_PREFIXES) -> list[Path]:
    """Java executables in Homebrew's kegs (keg-only: brew links none of them onto PATH)."""
    found = []
    for prefix in prefixes:
        for keg in BREW_KEGS:
            for java in (Path(prefix, "opt", keg, "libexec", "openjdk.jdk", "Contents", "Home", "bin", "java"),
                         Path(prefix, "opt", keg, "bin", "java")):
                if java.exists():
                    found.append(java)
                    break
    return found


def candidates(env: dict | None = None, jdk_dir: Path | None = None, java_home_tool: Path = JAVA_HOME_TOOL,
               brew_prefixes=BREW_PREFIXES) -> list[tuple[Path, str]]:
    """Every java executable worth probing, in order of preference, without duplicates."""
    env = os.environ if env is None else env
    found: list[tuple[Path, str]] = []
    if env.get("JAVA_HOME"):
        found.append((Path(env["JAVA_HOME"]) / "bin" / "java", "JAVA_HOME"))
    on_path = shutil.which("java", path=env.get("PATH", ""))
    if on_path:
        found.append((Path(on_path), "PATH"))
    mac_home = macos_java_home(java_home_tool)
    if mac_home is not None:
        found.append((mac_home / "bin" / "java", "java_home"))
    found += [(java, "Homebrew") for java in brew_javas(brew_prefixes)]
    jdk_dir = local_jdk_dir() if jdk_dir is None else jdk_dir
    if jdk_dir.is_dir():
        for home in sorted(jdk_dir.iterdir(), reverse=True):
            for java in (home / "bin" / "java", home / "Contents" / "Home" / "bin" / "java"):
                if java.exists():
                    found.append((java, ".jdk"))
    unique, seen = [], set()
    for java, source in found:
        key = os.path.realpath(java)
        if key not in seen:
            seen.add(key)
            unique.append((java, source))
    return unique


def fix_message(installs: list[JavaInstall]) -> str:
    """The one message a learner sees when no Java fits."""
    seen = "\n".join(f"  - {i.describe()}" for i in installs) or "  - no java on JAVA_HOME or PATH"
    seen += "\n  - (also macOS's /usr/libexec/java_home, Homebrew's opt/openjdk@17 and opt/openjdk, and .jdk/)"
    return (
        f"Spark 4 needs Java {MIN_JAVA} or newer, and none was found.\n"
        f"Looked at:\n{seen}\n"
        "Fix it one of these ways, then restart the kernel (or re-run make):\n"
        "  - conda:          conda install -c conda-forge openjdk=17\n"
        "  - Debian/Ubuntu:  sudo apt-get install openjdk-17-jdk-headless\n"
        "  - macOS:          brew install openjdk@17   (found in Homebrew's opt/openjdk@17 as it is;\n"
        "                    or any JDK 17+ that /usr/libexec/java_home -v 17+ lists)\n"
        "  - a private JDK for this course only (needs internet):\n"
        "                    python -m sparkcourse java --install   (into .jdk/)\n"
        f"  - or point JAVA_HOME at an installed Java {MIN_JAVA}+."
    )


@dataclass(frozen=True)
class Decision:
    action: str  # "use", "install" or "fail"
    install: JavaInstall | None
    message: str


def decide(installs: list[JavaInstall], may_download: bool) -> Decision:
    """What to do given what was found: use the first usable Java, fetch one, or fail clearly."""
    for found in installs:
        if found.usable:
            return Decision("use", found, found.describe())
    if may_download:
        return Decision("install", None, f"no Java {MIN_JAVA}+ found; fetching JDK {LOCAL_JDK_VERSION} into {local_jdk_dir()}")
    return Decision("fail", None, fix_message(installs))


def find_java(env: dict | None = None, jdk_dir: Path | None = None, **where) -> JavaInstall:
    """The Java Spark will use; raises :class:`JavaError` with the fixes if none fits.

    ``where``: ``java_home_tool`` and ``brew_prefixes`` for :func:`candidates` (fakes in tests)."""
    installs = [probe(java, source) for java, source in candidates(env, jdk_dir, **where)]
    decision = decide(installs, may_download=False)
    if decision.action != "use":
        raise JavaError(decision.message)
    return decision.install


def ensure_java_home(env: dict | None = None) -> JavaInstall:
    """Find Java 17+ and point ``JAVA_HOME`` at it, so Spark's launcher uses that one."""
    env = os.environ if env is None else env
    found = find_java(env)
    env["JAVA_HOME"] = str(found.home)
    return found


def install_local_jdk(version: str = LOCAL_JDK_VERSION) -> JavaInstall:
    """Download a full JDK into ``.jdk/`` with the ``install-jdk`` package (needs internet)."""
    import jdk  # the install-jdk package

    target = local_jdk_dir()
    target.mkdir(parents=True, exist_ok=True)
    try:
        home = Path(jdk.install(version, path=str(target)))
    except Exception as exc:  # network, unsupported platform, disk ...
        raise JavaError(
            f"Could not download JDK {version} into {target}: {exc}\n" + fix_message([])
        ) from exc
    return find_java(env={"JAVA_HOME": str(home), "PATH": ""})


def ensure_java(may_download: bool | None = None) -> JavaInstall:
    """Bootstrap step: use a Java 17+ if there is one, else fetch one when allowed.

    Downloading is allowed unless ``SPARKCOURSE_NO_JDK_DOWNLOAD=1``.
    """
    if may_download is None:
        may_download = os.environ.get("SPARKCOURSE_NO_JDK_DOWNLOAD", "0") != "1"
    installs = [probe(java, source) for java, source in candidates()]
    decision = decide(installs, may_download)
    if decision.action == "use":
        return decision.install
    if decision.action == "install":
        print(decision.message, flush=True)
        return install_local_jdk()
    raise JavaError(decision.message)
