"""Helpers for the Spark ML course: what a lesson needs but does not teach.

Almost every notebook starts with ``from sparkcourse import SEED, get_spark`` (and ``workdir``);
other helpers are imported from their module (``sparkcourse.datasets``, ``sparkcourse.checks``,
``sparkcourse.plots``...). docs/architecture.md lists the modules by layer.
"""

from sparkcourse.paths import cache_dir, project_root, workdir
from sparkcourse.session import get_spark

__version__ = "0.1.0"

#: The one seed every random step of the course uses (splits, forests, ALS, ...).
SEED = 42

__all__ = ["SEED", "cache_dir", "get_spark", "project_root", "workdir", "__version__"]
