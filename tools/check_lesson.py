"""`make check N=03`: validate your workspace copy of lesson 03 with nbgrader.

It runs the notebook top to bottom and reports the checks that fail. Instructors grade with
more (hidden) checks. A graded cohort works from a learner edition of the course (written by
`make learner-edition`), which has neither solutions nor hidden checks.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tools import ROOT
from sparkcourse.workspace import workspace_dir
from tools.notebooks import lesson_notebooks, test_environment


def main() -> int:
    number = sys.argv[1].zfill(2) if len(sys.argv) > 1 and sys.argv[1] else ""
    if not number:
        print("usage: make check N=03  (the lesson number)", file=sys.stderr)
        return 2
    found = lesson_notebooks(workspace_dir(), number) if workspace_dir().is_dir() else []
    if len(found) != 1:
        print(f"No lesson {number!r} in {workspace_dir()}: run `make lab` once, then `make check N=00`.",
              file=sys.stderr)
        return 2
    env = {**os.environ, **test_environment()}
    return subprocess.run([sys.executable, "-m", "nbgrader", "validate", str(found[0])], cwd=ROOT, env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
