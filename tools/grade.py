"""`make grade A=<assignment>`: autograde submitted/, write feedback and grades.csv, print a summary.
`make collect A=<assignment> ZIP=downloads.zip`: first unpack a zip of submissions into submitted/.

Submissions go in submitted/<student>/<assignment>/<assignment>.ipynb (all git-ignored, like
downloaded/, gradebook.db, autograded/, feedback/ and grades.csv). Feedback never shows hidden tests.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tools.grading import CollectError, collect, grade, summary  # noqa: E402


def main(argv: list[str] | None = None, course: Path = ROOT) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("assignment", nargs="?", default="", help="e.g. 00_setup")
    parser.add_argument("--collect", metavar="ZIP", type=Path,
                        help="only collect: unpack this zip (<student_id>/<notebook>.ipynb inside) into submitted/")
    parser.add_argument("--replace", action="store_true", help="with --collect: overwrite students already collected")
    args = parser.parse_args(argv)
    if not args.assignment or not (course / "solutions" / args.assignment).is_dir():
        command = "collect" if args.collect is not None else "grade"
        print(f"usage: make {command} A=<lesson folder>, e.g. A=00_setup (not {args.assignment!r})", file=sys.stderr)
        return 2
    if args.collect is not None:
        try:
            students = collect(course, args.assignment, args.collect, replace=args.replace)
        except CollectError as error:
            print(f"nothing collected: {error}", file=sys.stderr)
            return 2
        print(f"collected {len(students)} submission(s) of {args.assignment}: {', '.join(students)}")
        print(f"next: make grade A={args.assignment}")
        return 0
    graded = grade(course, args.assignment)
    print(summary(args.assignment, graded))
    print(f"\nfeedback: {course / 'feedback'}   grades: {course / 'grades.csv'}")
    return 1 if any(r.problems for r in graded) else 0


if __name__ == "__main__":
    sys.exit(main())
