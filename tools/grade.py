"""`make grade A=<assignment>`: autograde submitted/, write feedback and grades.csv, print a summary.

Submissions go in submitted/<student>/<assignment>/<assignment>.ipynb (all git-ignored, like
gradebook.db, autograded/, feedback/ and grades.csv). Feedback never shows hidden tests.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tools.grading import grade, summary  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("assignment", nargs="?", default="", help="e.g. 00_setup")
    args = parser.parse_args()
    if not args.assignment or not (ROOT / "solutions" / args.assignment).is_dir():
        print(f"usage: make grade A=<lesson folder>, e.g. A=00_setup (not {args.assignment!r})", file=sys.stderr)
        return 2
    graded = grade(ROOT, args.assignment)
    print(summary(args.assignment, graded))
    print(f"\nfeedback: {ROOT / 'feedback'}   grades: {ROOT / 'grades.csv'}")
    return 1 if any(r.problems for r in graded) else 0


if __name__ == "__main__":
    sys.exit(main())
