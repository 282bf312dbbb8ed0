"""The learner workspace: a private copy of ``course/`` that JupyterLab opens.

Lessons are copied in once. A lesson folder that already exists in the workspace is the
learner's own work and is never touched; lessons added to the course later are copied on the
next ``make lab``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from sparkcourse.paths import project_root


def workspace_dir(target: str | os.PathLike | None = None) -> Path:
    return Path(target or os.environ.get("SPARKCOURSE_WORKSPACE") or project_root() / "workspace")


def sync_workspace(target: str | os.PathLike | None = None, course: Path | None = None) -> list[str]:
    """Copy each lesson of ``course/`` that the workspace lacks; return what was done."""
    course = course or project_root() / "course"
    target = workspace_dir(target)
    target.mkdir(parents=True, exist_ok=True)
    done = []
    for lesson in sorted(p for p in course.iterdir() if p.is_dir()):
        dest = target / lesson.name
        if dest.exists():
            done.append(f"kept    {dest} (your copy)")
            continue
        partial = target / f".{lesson.name}.copying"
        shutil.rmtree(partial, ignore_errors=True)
        shutil.copytree(lesson, partial)
        partial.rename(dest)  # appears whole or not at all
        done.append(f"added   {dest}")
    return done
