"""Helpers for the Spark ML course.

Every notebook imports what it needs from here instead of copying code:

    from sparkcourse import get_spark, workdir, SEED
"""

from sparkcourse.paths import cache_dir, project_root, workdir
from sparkcourse.session import get_spark

__version__ = "0.1.0"

#: The one seed every random step of the course uses (splits, forests, ALS, ...).
SEED = 42

__all__ = ["SEED", "cache_dir", "get_spark", "project_root", "workdir", "__version__"]
