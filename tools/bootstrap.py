"""Create or update the course environment; run by `make lab`, `make test` and friends.

Steps, each skipped when already done:
1. refuse a Python older than 3.11 with a clear message (pyspark 4.3 and nbgrader 0.9.6 need it);
2. create the virtual environment if missing;
3. install the pinned packages (requirements/constraints.txt locks indirect ones too) and this
   project in editable mode, whenever pyproject.toml or the lock changed;
4. register the course's Jupyter kernel and keep instructor-only nbgrader extensions out of
   the learner's JupyterLab;
5. make sure a Java 17+ is there (fetching a private JDK when none is and the internet is);
6. build the JVM class-data archive that makes every Spark start faster.
"""

import hashlib
import os
import subprocess
import sys

MIN_PYTHON = (3, 11)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

if sys.version_info < MIN_PYTHON:
    sys.exit(
        "This course needs Python %d.%d or newer (pyspark 4.3 and nbgrader 0.9.6 require it); "
        "%s is Python %d.%d.\nInstall a newer Python (python.org, your package manager, pyenv "
        "or conda) and run again, e.g.  make lab PYTHON=python3.12"
        % (MIN_PYTHON + (sys.executable,) + sys.version_info[:2])
    )

import json  # noqa: E402
from pathlib import Path  # noqa: E402

LOCK_INPUTS = ["pyproject.toml", "requirements/constraints.txt"]
KERNEL_NAME = "sparkcourse"
INSTRUCTOR_LAB_PLUGINS = [
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:course-list",
]
INSTRUCTOR_SERVER_EXTENSIONS = [
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.course_list",
]


def run(*cmd, **kwargs):
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, cwd=ROOT, **kwargs)


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


def main() -> None:
    venv = Path(os.environ.get("VENV") or Path(ROOT, ".venv"))
    if not venv.is_absolute():
        venv = Path(ROOT, venv)
    python = venv / "bin" / "python"
    if not python.exists():
        run(sys.executable, "-m", "venv", venv)
    stamp = venv / ".sparkcourse-lock"
    if not stamp.exists() or stamp.read_text() != lock_digest():
        run(python, "-m", "pip", "install", "--disable-pip-version-check", "-q",
            "-c", "requirements/constraints.txt", "-e", ".")
        jupyter = venv / "bin" / "jupyter"
        for plugin in INSTRUCTOR_LAB_PLUGINS:
            run(jupyter, "labextension", "disable", "--level=sys_prefix", plugin,
                stdout=subprocess.DEVNULL)
        for extension in INSTRUCTOR_SERVER_EXTENSIONS:
            run(jupyter, "server", "extension", "disable", "--sys-prefix", extension,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        stamp.write_text(lock_digest())
    install_kernel(venv, python)
    run(python, "-m", "sparkcourse", "java", "--ensure")
    run(python, "-m", "sparkcourse", "warmup")


if __name__ == "__main__":
    main()
