"""Create or update the course environment; run by `make lab`, `make test` and friends.

Steps, each skipped when already done, each announced on its own line:
1. refuse a Python older than 3.11 with a clear message (pyspark 4.3 and nbgrader 0.9.6 need it);
2. create the virtual environment if missing;
3. install the pinned packages (requirements/constraints.txt locks indirect ones too) and this
   project in editable mode, whenever pyproject.toml or the lock changed, with pip's own
   progress; an environment that already has them (conda's, made from environment.yml) is
   only checked;
4. register the course's Jupyter kernel and keep nbgrader's instructor tools and its Assignment
   List (it needs an exchange folder learners do not have) out of the learner's JupyterLab:
   disabled and locked, so the Plugin Manager cannot turn them back on; no news pop-up;
5. make sure a Java 17+ is there (fetching a private JDK when none is and the internet is);
6. build the JVM class-data archive that makes every Spark start faster (once: a few minutes,
   with a line every 15 s). On a first install it is built while pip installs: pip installs
   what the warm-up needs first (WARMUP_PACKAGES), then the rest on one core while the warm-up's
   JVM runs on the other.

The same code path serves `make lab` (VENV=.venv or $CONDA_PREFIX), Binder's postBuild and the
devcontainer: ``VENV=<prefix> python tools/bootstrap.py``.
"""

import hashlib
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _python_floor():
    """(major, minor) of pyproject.toml's requires-python, the one place the course states it."""
    import re

    with open(os.path.join(ROOT, "pyproject.toml"), encoding="utf-8") as pyproject:
        found = re.search(r'^requires-python\s*=\s*">=(\d+)\.(\d+)"', pyproject.read(), re.M)
    return (int(found.group(1)), int(found.group(2)))


MIN_PYTHON = _python_floor()

if sys.version_info < MIN_PYTHON:
    sys.exit(
        "This course needs Python %d.%d or newer (pyspark 4.3 and nbgrader 0.9.6 require it); "
        "%s is Python %d.%d.\nInstall a newer Python (python.org, your package manager, pyenv "
        "or conda) and run again, e.g.  make lab PYTHON=python3.12"
        % (MIN_PYTHON + (sys.executable,) + sys.version_info[:2])
    )

import json  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import tomllib  # noqa: E402
from pathlib import Path  # noqa: E402

LOCK_INPUTS = ["pyproject.toml", "requirements/constraints.txt"]
KERNEL_NAME = "sparkcourse"
INSTRUCTOR_LAB_PLUGINS = [
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:course-list",
]
#: Learners submit nothing through nbgrader's exchange (there is none): its Assignment List would
#: only show an error. Validate stays.
LEARNER_HIDDEN_LAB_PLUGINS = INSTRUCTOR_LAB_PLUGINS + ["@jupyter/nbgrader:assignment-list"]
INSTRUCTOR_SERVER_EXTENSIONS = [
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.course_list",
]
LEARNER_HIDDEN_SERVER_EXTENSIONS = INSTRUCTOR_SERVER_EXTENSIONS + ["nbgrader.server_extensions.assignment_list"]
#: JupyterLab settings for every learner (the environment's overrides.json): no news pop-up.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
}
WARMUP_USUAL = "usually 1-3 min on 2 cores"
WARMUP_LABEL = ("Warming up the JVM: a class-data archive that makes every later Spark start faster "
                f"(once per Java and Spark; {WARMUP_USUAL})")
#: What `python -m sparkcourse java --ensure` and `warmup` import, installed before everything else
#: (at the lock's versions), optional imports included (scipy for pyspark.ml.linalg, cloudpickle for
#: pyarrow, charset-normalizer for numpy.f2py): nothing the warm-up loads is half-written by pip.
#: tests/test_bootstrap.py checks the list against the warm-up's imports.
WARMUP_PACKAGES = ["pyspark", "numpy", "pandas", "pyarrow", "scipy", "cloudpickle", "charset-normalizer",
                   "install-jdk"]


def step(text: str) -> None:
    print(f"[setup] {text}", flush=True)


def shown(*cmd, note: str = "") -> list[str]:
    """``cmd`` as strings to run, once printed the way a shell traces it (then ``note``, if any)."""
    args = [str(c) for c in cmd]
    print("+", " ".join(args), *([note] if note else []), flush=True)
    return args


def run(*cmd, **kwargs):
    subprocess.run(shown(*cmd), check=True, cwd=ROOT, **kwargs)


def run_with_ticks(label: str, *cmd, every: float = 15) -> None:
    """Run ``cmd``; past ``every`` seconds say what it is (``label``), then how long it has taken."""
    with_ticks(label, lambda: run(*cmd), every=every)


def with_ticks(label: str, wait, every: float = 15, started: float | None = None) -> None:
    """Call ``wait()``; past ``every`` seconds say what it waits for (``label``), then how long it has
    taken since ``started`` (a time.monotonic(); now when not given)."""
    done = threading.Event()
    started = time.monotonic() if started is None else started

    def tick():
        if not done.wait(every):
            step(label)
        while not done.wait(every):
            print(f"    ... {time.monotonic() - started:.0f} s", flush=True)

    ticker = threading.Thread(target=tick, daemon=True)
    ticker.start()
    try:
        wait()
    finally:
        done.set()
        ticker.join()


def pins() -> list[str]:
    """The top-level pins, from pyproject.toml: the one source (environment.yml installs them
    through the same constraints file)."""
    return tomllib.loads(Path(ROOT, "pyproject.toml").read_text())["project"]["dependencies"]


CHECK_INSTALLED = """
import json, sys
from importlib import metadata
from urllib.parse import unquote, urlparse
root, pins, lock = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
for pin in pins + lock:
    name, version = pin.split("==")
    try:
        if metadata.version(name.split("[")[0]) != version:
            sys.exit(f"{name} is not {version}")
    except metadata.PackageNotFoundError:
        if pin in pins:  # the lock also names packages of other platforms
            sys.exit(f"{name} is missing")
try:
    url = json.loads(metadata.distribution("sparkcourse").read_text("direct_url.json") or "{}")
except metadata.PackageNotFoundError:
    sys.exit("sparkcourse is not installed")
if not url.get("dir_info", {}).get("editable") or unquote(urlparse(url.get("url", "")).path) != root:
    sys.exit("sparkcourse is not installed in editable mode from " + root)
"""


def locked() -> list[str]:
    lines = Path(ROOT, "requirements", "constraints.txt").read_text().splitlines()
    return [line.strip() for line in lines if "==" in line and not line.startswith("#")]


def installed(python: Path) -> bool:
    """Whether ``python``'s environment has every pin and locked version and this project in
    editable mode already (a conda environment made from environment.yml has)."""
    if not python.exists():
        return False
    result = subprocess.run([str(python), "-c", CHECK_INSTALLED, os.path.realpath(ROOT), json.dumps(pins()),
                             json.dumps(locked())], cwd="/", capture_output=True, text=True, check=False)
    return result.returncode == 0


def _merge_json(path: Path, update) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(path.read_text()) if path.exists() else {}
    update(data)
    path.write_text(json.dumps(data, indent=2) + "\n")


def configure_lab(venv: Path) -> None:
    """The learner's JupyterLab: instructor tools and the Assignment List off and locked; no news.

    Written as ``jupyter labextension disable/lock --level=sys_prefix`` and ``jupyter server
    extension disable --sys-prefix`` write it (those took 20 s a call on a busy machine): a
    locked plugin cannot be turned back on in the Plugin Manager."""
    def hide_plugins(config):
        for key in ("disabledExtensions", "lockedExtensions"):
            config.setdefault(key, {}).update({plugin: True for plugin in LEARNER_HIDDEN_LAB_PLUGINS})

    _merge_json(venv / "etc" / "jupyter" / "labconfig" / "page_config.json", hide_plugins)
    for extension in LEARNER_HIDDEN_SERVER_EXTENSIONS:
        _merge_json(venv / "etc" / "jupyter" / "jupyter_server_config.d" / f"{extension}.json",
                    lambda config: config.setdefault("ServerApp", {}).setdefault("jpserver_extensions", {})
                    .update({extension: False}))

    def quiet(settings):
        for plugin, values in LAB_SETTINGS.items():
            settings.setdefault(plugin, {}).update(values)

    _merge_json(venv / "share" / "jupyter" / "lab" / "settings" / "overrides.json", quiet)


def lock_digest() -> str:
    digest = hashlib.sha256()
    for name in LOCK_INPUTS:
        digest.update(Path(ROOT, name).read_bytes())
    return digest.hexdigest()


def install_kernel(venv: Path, python: Path) -> None:
    """A kernel that keeps JVM output out of notebook cells (it goes to the terminal instead)."""
    kernel_dir = venv / "share" / "jupyter" / "kernels" / KERNEL_NAME
    kernel_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}",
                 "--IPKernelApp.capture_fd_output=False"],
        "display_name": "Spark ML course (Python 3)",
        "language": "python",
        "metadata": {"debugger": True},
    }
    (kernel_dir / "kernel.json").write_text(json.dumps(spec, indent=1) + "\n")


def pip_install(python: Path, *packages: str) -> None:
    run(python, "-m", "pip", "install", "--disable-pip-version-check", "-c", "requirements/constraints.txt",
        *packages)


def start_warmup(*cmd) -> tuple[subprocess.Popen, float]:
    """The warm-up ``cmd`` in the background (its output kept for later), and when it started."""
    return (subprocess.Popen(shown(*cmd, note="(in the background)"), cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True), time.monotonic())


def finish_warmup(warmup: subprocess.Popen, started: float) -> None:
    """Wait for the background warm-up (a line every 15 s), then print what it said."""
    with_ticks(WARMUP_LABEL, warmup.wait, started=started)
    output = warmup.stdout.read()
    print(output, end="", flush=True)
    if warmup.returncode:
        raise subprocess.CalledProcessError(warmup.returncode, warmup.args, output)


def main() -> None:
    venv = Path(os.environ.get("VENV") or Path(ROOT, ".venv"))
    if not venv.is_absolute():
        venv = Path(ROOT, venv)
    python = venv / "bin" / "python"
    if not python.exists():
        step(f"Creating the course's Python environment in {venv}")
        run(sys.executable, "-m", "venv", venv)
    stamp = venv / ".sparkcourse-lock"
    java = (python, "-m", "sparkcourse", "java", "--ensure")
    warm = (python, "-m", "sparkcourse", "warmup")
    java_label = "Java 17+ for Spark (when none is found, a JDK of about 190 MB is fetched into .jdk/)"
    warmup = None
    if not stamp.exists() or stamp.read_text() != lock_digest():
        if installed(python):
            step(f"{venv} already has the pinned packages and this course (editable): nothing to install")
        else:
            step("Installing Spark and what its JVM warm-up needs, then the other pinned packages while the "
                 "JVM warms up (first time: a few minutes and about 1.6 GB; pip lists each package as it goes)")
            pip_install(python, *WARMUP_PACKAGES)
            run_with_ticks(java_label, *java)
            warmup = start_warmup(*warm)
            try:
                pip_install(python, "-e", ".")
            except subprocess.CalledProcessError:
                finish_warmup(*warmup)  # its archive is good whatever pip did; then pip's error
                raise
        step("JupyterLab for learners: instructor tools and the Assignment List off and locked")
        configure_lab(venv)
        stamp.write_text(lock_digest())
    install_kernel(venv, python)
    if warmup is not None:
        finish_warmup(*warmup)
    else:  # both are instant once done; the first time they say what they do and how long it takes
        run_with_ticks(java_label, *java)
        run_with_ticks(WARMUP_LABEL, *warm)


if __name__ == "__main__":
    main()
