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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tools.notebooks import lesson_notebooks  # noqa: E402


def generate(release_dir: Path, lessons: list[str] | None = None, db_url: str | None = None) -> list[str]:
    """Run ``nbgrader generate_assignment`` for each lesson into ``release_dir``.

    Without ``db_url`` nothing is written to any gradebook.
    """
    names = lessons or [p.parent.name for p in lesson_notebooks(ROOT / "solutions")]
    for name in names:
        command = [sys.executable, "-m", "nbgrader", "generate_assignment", name, "--force",
                   f"--CourseDirectory.release_directory={release_dir}", "--log-level=WARN"]
        command += [f"--db={db_url}"] if db_url else ["--no-db"]
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        if result.returncode != 0:
            raise SystemExit(f"nbgrader could not release {name}:\n{result.stdout}{result.stderr}")
    return names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("lessons", nargs="*", help="lesson folders (default: all)")
    args = parser.parse_args()
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
