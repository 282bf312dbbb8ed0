"""Regenerate the learner release course/ from solutions/ with nbgrader (`make release`).

course/ is derived, never edited by hand: the tests regenerate it into a temporary folder and
fail on any difference.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tools import ROOT
from tools.notebooks import lesson_notebooks


def generate(release_dir: Path, lessons: list[str] | None = None, db_url: str | None = None) -> list[str]:
    """Run nbgrader's generate_assignment for each lesson into ``release_dir``, all in one process.

    One nbgrader process for all lessons (its start-up and imports cost more than a release);
    without ``db_url`` nothing is written to any gradebook.
    """
    names = lessons or [p.parent.name for p in lesson_notebooks(ROOT / "solutions")]
    command = [sys.executable, "-m", "tools.release", "--generate-into", str(release_dir), *names]
    command += [f"--db={db_url}"] if db_url else []
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"nbgrader could not release {', '.join(names)}:\n{result.stdout}{result.stderr}")
    return names


def _generate_in_this_process(release_dir: Path, names: list[str], db_url: str | None) -> None:
    """nbgrader's API with the course's nbgrader_config.py (run from the project root)."""
    from tools.grading import NO_DATABASE, api_output, nbgrader_api

    directory = {"release_directory": str(release_dir)}
    if db_url:
        api = nbgrader_api(ROOT, CourseDirectory={**directory, "db_url": db_url})
    else:
        api = nbgrader_api(ROOT, CourseDirectory=directory, **NO_DATABASE)
    for name in names:
        outcome = api.generate_assignment(name, force=True, create=bool(db_url))
        if not outcome["success"]:
            raise SystemExit(f"nbgrader could not release {name}:\n{api_output(outcome)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("lessons", nargs="*", help="lesson folders (default: all)")
    parser.add_argument("--generate-into", type=Path, help=argparse.SUPPRESS)  # generate()'s worker
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate_into:
        _generate_in_this_process(args.generate_into, args.lessons, args.db)
        return
    with tempfile.TemporaryDirectory() as tmp:
        names = generate(Path(tmp), args.lessons or None)
        for name in names:  # swap each lesson in whole, so course/ is never half-written
            target = ROOT / "course" / name
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(Path(tmp) / name, target)
            print(f"released course/{name}")
    stale = {p.name for p in (ROOT / "course").iterdir() if p.is_dir()} - {
        p.parent.name for p in lesson_notebooks(ROOT / "solutions")}
    for name in sorted(stale):
        print(f"warning: course/{name} has no source in solutions/ (remove it if the lesson was dropped)")


if __name__ == "__main__":
    main()
