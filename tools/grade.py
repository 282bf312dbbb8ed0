"""`make grade A=<assignment>`: autograde submitted/, write feedback and grades.csv, print a summary.
`make collect A=<assignment> ZIP=downloads.zip`: first unpack a zip of submissions into submitted/.
`make grade A=<assignment> JOBS=2`: grade two students at a time (default: what cores and memory hold).
`make grade A=<assignment> SHARD=1/3`: grade only the first of three shares of the students (another
machine grades 2/3 and 3/3 from a copy of the same course folder); then
`make merge-grades A=<assignment> FROM="shard1 shard2 shard3"` combines them here.

Submissions go in submitted/<student>/<assignment>/<assignment>.ipynb (all git-ignored, like
downloaded/, gradebook.db, autograded/, feedback/ and grades.csv). Feedback never shows hidden tests.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tools import ROOT
from tools.grading import (CollectError, MergeError, collect, default_jobs, grade, merge, parse_shard,
                           summary)


def main(argv: list[str] | None = None, course: Path = ROOT) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("assignment", nargs="?", default="", help="e.g. 00_setup")
    parser.add_argument("--collect", metavar="ZIP", type=Path,
                        help="only collect: unpack this zip (<student_id>/<notebook>.ipynb inside) into submitted/")
    parser.add_argument("--replace", action="store_true", help="with --collect: overwrite students already collected")
    parser.add_argument("--jobs", type=int, help="students graded at once (default: from cores and memory)")
    parser.add_argument("--shard", metavar="I/N", help="grade only the I-th of N shares of the students")
    parser.add_argument("--merge", metavar="FOLDER", nargs="+", type=Path,
                        help="combine the shards graded in these course folders into this one")
    args = parser.parse_args(argv)
    if not args.assignment or not (course / "solutions" / args.assignment).is_dir():
        command = "collect" if args.collect is not None else "merge-grades" if args.merge else "grade"
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
    if args.merge:
        try:
            graded = merge(course, args.assignment, args.merge)
        except MergeError as error:
            print(f"nothing merged: {error}", file=sys.stderr)
            return 2
        print(f"merged {len(args.merge)} shard(s) of {args.assignment}")
    else:
        try:
            shard = parse_shard(args.shard) if args.shard else None
        except ValueError as error:
            print(error, file=sys.stderr)
            return 2
        jobs = args.jobs or default_jobs()
        print(f"grading {args.assignment}{f' (shard {args.shard})' if shard else ''}: "
              f"{jobs} student(s) at a time, each in a fresh kernel", flush=True)
        graded = grade(course, args.assignment, jobs=jobs, shard=shard, progress=lambda line: print(line, flush=True))
    print()
    print(summary(args.assignment, graded))
    print(f"\nfeedback: {course / 'feedback'}   grades: {course / 'grades.csv'}   "
          f"item analysis: {course / f'item-analysis-{args.assignment}.md'}")
    return 1 if any(r.problems for r in graded) else 0


if __name__ == "__main__":
    sys.exit(main())
