"""Where the course reads and writes: the project root, the work folder and the cache."""

from __future__ import annotations

import os
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent


def project_root() -> Path:
    """The repository folder (the parent of the ``sparkcourse`` package)."""
    return _ROOT


def workdir(*parts: str) -> Path:
    """The one ignored folder where notebooks write (models, Parquet, MLflow stores, Derby files).

    ``workdir("03_classification", "models")`` returns that sub-folder, created if missing.
    Set ``SPARKCOURSE_WORKDIR`` to move it. Nothing is ever written inside ``solutions/`` or
    ``course/``: nbgrader would copy it into the learner release.
    """
    base = Path(os.environ.get("SPARKCOURSE_WORKDIR") or _ROOT / "workdir")
    path = base.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir(*parts: str) -> Path:
    """A cache outside git (downloads, JVM class-data archive), shared by all checkouts.

    ``SPARKCOURSE_CACHE`` wins; else ``$XDG_CACHE_HOME/sparkcourse``; else ``~/.cache/sparkcourse``.
    """
    base = os.environ.get("SPARKCOURSE_CACHE")
    if not base:
        xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        base = os.path.join(xdg, "sparkcourse")
    path = Path(base).joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path
