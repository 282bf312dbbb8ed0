"""One call to get a laptop-tuned, deterministic SparkSession: :func:`get_spark`.

Environment variables it honours:

- ``SPARK_REMOTE``: connect to a Spark Connect server (``sc://host:15002``) instead.
- ``SPARK_MASTER``: a cluster master URL (``spark://127.0.0.1:7077``, ``yarn``, ...).
- ``SPARKCOURSE_CORES``: local cores (default 2). More cores is faster on a big laptop, but
  partitioning then differs and seeded results (splits, forests) no longer match the stored ones.
- ``SPARKCOURSE_UI=0``: no Spark UI (tests use this).
- ``SPARKCOURSE_FAST_JVM=0``: turn off the start-up levers (class-data sharing, C1-only JIT).
- ``SPARKCOURSE_MEMORY``: the driver's memory (``3g``) instead of a quarter of the memory this
  process may use (the container's limit when there is one, else the machine's).
- ``SPARKCOURSE_FOREIGN_SPARK=1``: start even with another Spark on ``SPARK_HOME``/``PYTHONPATH`` (a warning).
- ``SPARKCOURSE_SHARED_JVM``: the test suite's already running Spark JVM (``port:secret``): the
  session starts in it instead of in a new JVM (tests/shared_jvm.py).
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import threading
import warnings
from pathlib import Path

from sparkcourse.java import JavaInstall, ensure_java_home
from sparkcourse.paths import cache_dir, workdir

DEFAULT_CORES = 2
#: Small, fixed shuffle width: a laptop needs no 200 partitions, and fixed means repeatable.
SHUFFLE_PARTITIONS = 4
LOG4J_CONFIG = Path(__file__).with_name("log4j2.properties")
#: Java threads' stack size with C1-only JIT. Its frames are larger than C2's, and ALS on MovieLens
#: (10 iterations: a long lineage that tasks walk recursively) overflows the default 1 MB stack of
#: executor task threads with ``StackOverflowError``. Reserved address space, not memory used.
THREAD_STACK = "8m"
#: The pyspark the course pins (pyproject.toml; a test keeps them equal).
PINNED_PYSPARK = "4.3.0"
#: Set by the test suite in a notebook kernel's environment: the address of a running Spark JVM.
SHARED_JVM = "SPARKCOURSE_SHARED_JVM"
#: The thread that waits for this process's Spark JVM to end (reap_jvm_when_it_ends).
REAPER = "sparkcourse-jvm-reaper"
#: cgroup v1 writes "no limit" as a huge number (2**63 rounded down to a page).
_NO_LIMIT = 2**60


class ForeignSparkError(RuntimeError):
    """Another Spark than the course's pinned pyspark would run: the message says what to unset."""


def spark_home_version(home: Path) -> str | None:
    """The Spark version of a Spark installation folder (from its jars, else its RELEASE file)."""
    for jar in sorted(Path(home, "jars").glob("spark-core_*-*.jar")):
        match = re.match(r"spark-core_[\d.]+-(\d+\.\d+\.\d+\S*?)\.jar$", jar.name)
        if match:
            return match.group(1)
    try:
        match = re.search(r"Spark (\d+\.\d+\.\d+)", Path(home, "RELEASE").read_text())
    except OSError:
        return None
    return match.group(1) if match else None


def foreign_spark(env: dict | None = None, pyspark_dir: Path | None = None,
                  pyspark_version: str | None = None, prefix: str | None = None) -> list[str]:
    """What makes another Spark than the course's run: each problem with its fix (empty: none).

    - the pyspark Python imports is not the pinned one, or lies outside this environment
      (docker-stacks' ``pyspark-notebook`` puts ``$SPARK_HOME/python`` on ``PYTHONPATH``);
    - ``SPARK_HOME`` names a Spark of another version: pyspark then starts that Spark's JVM
      and jars under the course's Python code.
    """
    env = os.environ if env is None else env
    if pyspark_dir is None or pyspark_version is None:
        import pyspark

        pyspark_dir = Path(pyspark.__file__).parent
        pyspark_version = pyspark.__version__
    prefix = prefix or sys.prefix
    pyspark_dir = Path(os.path.realpath(pyspark_dir))
    problems = []
    outside = not str(pyspark_dir).startswith(os.path.realpath(prefix) + os.sep)
    if pyspark_version != PINNED_PYSPARK or outside:
        where = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and
                 str(pyspark_dir).startswith(os.path.realpath(p) + os.sep)]
        fix = (f"unset PYTHONPATH (it holds {where[0]})" if where else
               f"use the course's environment: {prefix}/bin/python, or run make lab")
        problems.append(
            f"pyspark {pyspark_version} is imported from {pyspark_dir}, not the course's pyspark "
            f"{PINNED_PYSPARK} in {prefix}: {fix}, then restart the kernel.")
    home = env.get("SPARK_HOME")
    if home and os.path.realpath(home) != str(pyspark_dir):
        version = spark_home_version(Path(home))
        if version != PINNED_PYSPARK:
            problems.append(
                f"SPARK_HOME={home} is Spark {version or 'of unknown version'}, not the course's "
                f"{PINNED_PYSPARK}: pyspark would start that Spark. Run `unset SPARK_HOME` (in a "
                "docker-stacks image: `unset SPARK_HOME PYTHONPATH`), then restart the kernel.")
    return problems


def check_spark(env: dict | None = None, remote: bool = False) -> None:
    """Refuse another Spark than the pinned one (warn only with ``SPARKCOURSE_FOREIGN_SPARK=1``).

    ``remote``: a Spark Connect client starts no local Spark, so ``SPARK_HOME`` does not matter."""
    env = os.environ if env is None else env
    problems = foreign_spark({k: v for k, v in env.items() if k != "SPARK_HOME"} if remote else env)
    if not problems:
        return
    text = "Another Spark than the course's would run:\n" + "\n".join(f"- {p}" for p in problems)
    if _flag(env, "SPARKCOURSE_FOREIGN_SPARK", default=False):
        warnings.warn(text + "\n(SPARKCOURSE_FOREIGN_SPARK=1: starting anyway; results may differ)", stacklevel=3)
        return
    raise ForeignSparkError(text + "\n(Or set SPARKCOURSE_FOREIGN_SPARK=1 to start anyway.)")


def host_memory() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _read_limit(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    if not text.isdigit():  # "max": no limit
        return None
    value = int(text)
    return value if 0 < value < _NO_LIMIT else None


def cgroup_memory_limit(root: Path = Path("/")) -> int | None:
    """The memory limit of this process's cgroup and its parents (v2 ``memory.max``, v1
    ``memory.limit_in_bytes``), in bytes; None when there is none. ``root``: a fake tree in tests."""
    root = Path(root)
    try:
        lines = (root / "proc" / "self" / "cgroup").read_text().splitlines()
    except OSError:
        lines = []
    limits, places = [], []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        if controllers == "":  # v2 unified hierarchy
            places.append((root / "sys" / "fs" / "cgroup", path, "memory.max"))
        elif "memory" in controllers.split(","):
            places.append((root / "sys" / "fs" / "cgroup" / "memory", path, "memory.limit_in_bytes"))
    places += [(root / "sys" / "fs" / "cgroup", "/", "memory.max"),
               (root / "sys" / "fs" / "cgroup" / "memory", "/", "memory.limit_in_bytes")]
    for base, path, name in places:
        # A container sees its own cgroup as the root; on a host the path names nested groups.
        parts = [p for p in path.strip("/").split("/") if p]
        for depth in range(len(parts), -1, -1):
            limit = _read_limit(base.joinpath(*parts[:depth], name))
            if limit:
                limits.append(limit)
    return min(limits) if limits else None


def usable_memory(root: Path = Path("/")) -> tuple[int | None, str]:
    """The memory this process may use and where the figure comes from ("container limit" or "machine")."""
    host, limit = host_memory(), cgroup_memory_limit(root)
    if limit and (host is None or limit < host):
        return limit, "container limit"
    return host, "machine"


def _flag(env: dict, name: str, default: bool = True) -> bool:
    value = env.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() not in {"0", "false", "no", "off"}


def driver_memory(total_bytes: int | None = None) -> str:
    """A quarter of the memory this process may use, between 1 and 4 GiB (e.g. '4g' on 24 GiB,
    '2g' on 8 GiB, '1g' in a 2 GiB container however large its host)."""
    if total_bytes is None:
        total_bytes = usable_memory()[0] or 8 * 2**30
    gib = total_bytes // (4 * 2**30)
    return f"{min(4, max(1, gib))}g"


def cds_archive_path(java: JavaInstall, jars: Path | None = None) -> Path:
    """The class-data-sharing archive for exactly this JVM and these Spark jar files.

    The JVM silently ignores an archive when any jar on the class path differs in path, size or
    modification time from when the archive was made (a reinstalled pyspark, another .venv), so
    all three are part of the key: a new install gets a new archive instead of a useless one.
    """
    return cache_dir("jvm") / f"spark-{archive_key(str(java.java), java.raw, spark_jars(jars))}.jsa"


def spark_jars(jars: Path | None = None) -> Path:
    """The folder of the installed pyspark's jar files (or ``jars`` when given)."""
    if jars is None:
        import pyspark

        jars = Path(pyspark.__file__).parent / "jars"
    return jars


def archive_key(java: str, raw_version: str, jars: Path) -> str:
    """The archive's name part: a digest of the java executable, its version line and every jar's
    path, size and modification time. It changes whenever the install it was made for does."""
    digest = hashlib.sha256()
    digest.update(os.path.realpath(java).encode())
    digest.update(raw_version.encode())
    if jars.is_dir():
        for jar in sorted(jars.iterdir()):
            stat = jar.stat()
            digest.update(f"{os.path.realpath(jar)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def java_options(archive: Path | None = None, fast: bool = True, dump_to: Path | None = None) -> str:
    """Driver JVM options: UTC, quiet logs, Derby under the work folder, and start-up levers."""
    opts = [
        "-Duser.timezone=UTC",
        f"-Dlog4j2.configurationFile={LOG4J_CONFIG.as_uri()}",
        f"-Dderby.system.home={workdir('derby')}",
    ]
    if fast:
        # C1-only JIT starts faster; its default 48 MB code cache fills up in a long notebook
        # (then the JVM stops compiling and crawls), so give it room.
        opts += ["-XX:TieredStopAtLevel=1", "-XX:ReservedCodeCacheSize=256m", f"-Xss{THREAD_STACK}"]
        if dump_to is not None:
            opts.append(f"-XX:ArchiveClassesAtExit={dump_to}")
        elif archive is not None and archive.exists():
            # A stale or foreign archive is ignored by the JVM; keep its warning out of the way.
            opts += [f"-XX:SharedArchiveFile={archive}", "-Xlog:cds=off", "-Xlog:cds+dynamic=off"]
    # Spark splits this string on spaces unless quoted (a project under "My Courses/" must work).
    return " ".join(f'"{opt}"' if " " in opt else opt for opt in opts)


def local_cores(env: dict | None = None) -> int:
    """The course's local cores (``SPARKCOURSE_CORES``, default 2)."""
    env = os.environ if env is None else env
    return int(env.get("SPARKCOURSE_CORES") or DEFAULT_CORES)


def local_master(env: dict | None = None) -> str:
    """``local[n]`` with :func:`local_cores`."""
    return f"local[{local_cores(env)}]"


def session_settings() -> dict[str, str]:
    """The SQL settings every course session has, local or through Spark Connect."""
    return {"spark.sql.shuffle.partitions": str(SHUFFLE_PARTITIONS), "spark.sql.session.timeZone": "UTC"}


def driver_settings(env: dict | None = None) -> dict[str, str]:
    """What every driver JVM the course starts has (a notebook's, a Connect server's), besides
    :func:`session_settings`: no console progress bars, the UI only if ``SPARKCOURSE_UI``, tables
    under the work folder."""
    env = os.environ if env is None else env
    return {"spark.ui.showConsoleProgress": "false",
            "spark.ui.enabled": "true" if _flag(env, "SPARKCOURSE_UI") else "false",
            "spark.sql.warehouse.dir": str(workdir("spark-warehouse"))}


def build_conf(
    app_name: str,
    java: JavaInstall | None = None,
    env: dict | None = None,
    dump_cds_to: Path | None = None,
    **overrides: str,
) -> dict[str, str]:
    """The Spark configuration :func:`get_spark` uses, before ``overrides`` (pure: easy to test)."""
    env = os.environ if env is None else env
    cores = local_cores(env)
    fast = _flag(env, "SPARKCOURSE_FAST_JVM")
    archive = cds_archive_path(java) if (fast and java is not None) else None
    conf = {
        "spark.master": env.get("SPARK_MASTER") or f"local[{cores}]",
        "spark.app.name": app_name,
        "spark.default.parallelism": str(cores),
        **session_settings(),
        **driver_settings(env),
        "spark.driver.memory": env.get("SPARKCOURSE_MEMORY") or driver_memory(),
        "spark.driver.extraJavaOptions": java_options(archive, fast, dump_cds_to),
        # Executor JVMs (on a cluster) start as fast as the driver: same archive, same levers.
        "spark.executor.extraJavaOptions": java_options(archive, fast),
    }
    if conf["spark.ui.enabled"] == "true":
        # Behind JupyterLab's proxy (Binder, JupyterHub) the UI's own links must carry its path.
        from sparkcourse.links import spark_ui_conf

        conf.update(spark_ui_conf(env))
    conf.update({key: str(value) for key, value in overrides.items()})
    return conf


def java_start_options(env: dict | None = None) -> str:
    """The driver's JVM start-up options, for a JVM that another program starts (an MLflow model
    server's Spark): pass them as ``JDK_JAVA_OPTIONS``. Empty when the levers are switched off."""
    env = os.environ if env is None else env
    if not _flag(env, "SPARKCOURSE_FAST_JVM"):
        return ""
    return java_options(cds_archive_path(ensure_java_home()), fast=True)


def join_shared_jvm() -> None:
    """Use the Spark JVM whose address ``SPARKCOURSE_SHARED_JVM`` gives (``port:secret``), if set.

    The variable is removed first, so that the processes this one starts (a model server, a
    spark-submit) start their own JVM as usual.
    """
    address = os.environ.pop(SHARED_JVM, None)
    if not address:
        return
    from pyspark import SparkContext
    from pyspark.java_gateway import launch_gateway

    port, secret = address.split(":", 1)
    # pyspark's own way in: it connects to a running JVM when these two are set.
    os.environ.update(PYSPARK_GATEWAY_PORT=port, PYSPARK_GATEWAY_SECRET=secret)
    try:
        gateway = launch_gateway()
    finally:
        del os.environ["PYSPARK_GATEWAY_PORT"], os.environ["PYSPARK_GATEWAY_SECRET"]
    with SparkContext._lock:
        SparkContext._gateway, SparkContext._jvm = gateway, gateway.jvm


def get_spark(app_name: str = "sparkcourse", remote: str | None = None, **conf: str):
    """The course's SparkSession: reuses an active one, else starts a tuned local one.

    ``remote`` (or ``SPARK_REMOTE``): a Spark Connect server's address, ``sc://host:port``.

    Extra Spark settings go in as keyword arguments with their dotted names, e.g.
    ``get_spark("07_pipelines", **{"spark.sql.shuffle.partitions": "8"})``.
    """
    remote = remote or os.environ.get("SPARK_REMOTE")
    # Before anything of pyspark is imported: a foreign pyspark may not even import cleanly.
    check_spark(remote=bool(remote))
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    # An active session is reused, except a local one when a Connect server is asked for.
    if active is not None and (not remote or type(active).__module__.startswith("pyspark.sql.connect")):
        return active

    if remote:  # Spark Connect: the server owns the JVM; only session settings apply.
        builder = SparkSession.builder.remote(remote).appName(app_name)
        for key, value in {**session_settings(), **conf}.items():
            builder = builder.config(key, value)
        return builder.getOrCreate()

    java = ensure_java_home()
    join_shared_jvm()
    # Executors on a cluster run Python UDFs and ML helpers with this same interpreter.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder
    for key, value in build_conf(app_name, java=java, **conf).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    reap_jvm_when_it_ends()
    return spark


def reap_jvm_when_it_ends() -> None:
    """Wait for this process's Spark JVM in a daemon thread, so that it never lingers as a zombie.

    pyspark never waits for the JVM it starts. When a kernel shuts down, ipykernel ends its children
    and retries until none is left, a zombie included: 29 s, and nbgrader and JupyterLab kill the
    kernel after 2.5 s of that, for every graded notebook and every kernel restart.
    """
    from pyspark import SparkContext

    jvm = getattr(SparkContext._gateway, "proc", None)  # None in a JVM it joined (shared, or Connect)
    if jvm is None or any(t.name == REAPER for t in threading.enumerate()):
        return
    threading.Thread(target=jvm.wait, name=REAPER, daemon=True).start()
