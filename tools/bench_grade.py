"""`make bench-grade`: grade a synthetic cohort of lesson 00 with JOBS=1, then JOBS=2, and compare.

The cohort (24 submissions by default, `make bench-grade N=12` for fewer) mixes four kinds, in
turn: full (the solution's answers), blank (the release), partial (the first exercise only) and
broken (answer cells that raise before defining anything). Both runs grade the same submissions in fresh temporary course
folders with the course's configuration; the results must be identical. Printed: wall seconds,
seconds per submission, the speed-up measured in this run, and the machine's load average
(other work on the machine slows both runs). Also written to bench/grading.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import nbformat

from tools import ROOT
from tools.grading import grade, nbgrader
from tools.notebooks import nbgrader_meta

LESSON = "00_setup"
KINDS = ("full", "blank", "partial", "broken")


def _answer(source: str) -> str:
    """A solution cell as a learner would hand it in: without the solution markers."""
    return "\n".join(line for line in source.splitlines() if "### BEGIN SOLUTION" not in line
                     and "### END SOLUTION" not in line)


def cohort(course: Path, size: int) -> dict[str, str]:
    """Write ``size`` submissions into ``course``/submitted/; return student -> kind."""
    release = nbformat.read(course / "course" / LESSON / f"{LESSON}.ipynb", as_version=4)
    solution = nbformat.read(course / "solutions" / LESSON / f"{LESSON}.ipynb", as_version=4)
    answers = {nbgrader_meta(c)["grade_id"]: _answer(c.source) for c in solution.cells
               if nbgrader_meta(c).get("solution") and c.cell_type == "code"}
    exercises = [grade_id for grade_id in answers]
    kinds = {}
    for n in range(size):
        kind = KINDS[n % len(KINDS)]
        nb = nbformat.from_dict(release)
        for c in nb.cells:
            grade_id = nbgrader_meta(c).get("grade_id")
            if grade_id not in answers:
                continue
            if kind == "full" or (kind == "partial" and grade_id == exercises[0]):
                c.source = answers[grade_id]
            elif kind == "broken":  # fails before the answer is defined: no points
                c.source = "raise RuntimeError('my answer is broken')\n\n" + answers[grade_id]
        student = f"{kind}{n:03d}"
        (course / "submitted" / student / LESSON).mkdir(parents=True)
        nbformat.write(nb, course / "submitted" / student / LESSON / f"{LESSON}.ipynb")
        kinds[student] = kind
    return kinds


def make_course(folder: Path) -> Path:
    course = folder / "course"
    (course / "solutions").mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "solutions" / LESSON, course / "solutions" / LESSON)
    nbgrader(course, "generate_assignment", LESSON, "--force", "--no-db", "--log-level=WARN")
    return course


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--students", type=int, default=24)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args(argv)
    runs = {}
    with tempfile.TemporaryDirectory(prefix="sparkcourse-bench-grade-") as tmp:
        base = make_course(Path(tmp) / "base")
        kinds = cohort(base, args.students)
        print(f"{args.students} submissions of {LESSON} ({', '.join(KINDS)} in turn); load average before: "
              f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}", flush=True)
        for jobs in args.jobs:
            course = Path(tmp) / f"jobs{jobs}"
            shutil.copytree(base, course)
            print(f"\nJOBS={jobs}", flush=True)
            start = time.monotonic()
            graded = grade(course, LESSON, jobs=jobs, progress=lambda line: print("  " + line, flush=True))
            wall = time.monotonic() - start
            load = os.getloadavg()
            runs[jobs] = (wall, graded, (course / "grades.csv").read_text(), load)
            print(f"JOBS={jobs}: {wall:.0f} s, {wall / args.students:.1f} s per submission; "
                  f"load average after: {' '.join(f'{v:.2f}' for v in load)}", flush=True)
        by_kind = {}
        for r in runs[args.jobs[0]][1]:
            by_kind.setdefault(kinds[r.student], set()).add(r.score)
    first = args.jobs[0]
    same = all(runs[j][2] == runs[first][2] and [(r.student, r.cells) for r in runs[j][1]] ==
               [(r.student, r.cells) for r in runs[first][1]] for j in args.jobs)
    lines = [f"# Grading benchmark ({datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores)", "",
             f"{args.students} submissions of {LESSON}: " + ", ".join(
                 f"{k} (score {'/'.join(f'{s:g}' for s in sorted(v))})" for k, v in by_kind.items()), "",
             "| JOBS | wall s | s per submission | speed-up | load average after (1/5/15 min) |",
             "|---:|---:|---:|---:|---|"]
    for jobs in args.jobs:
        wall, _, _, load = runs[jobs]
        lines.append(f"| {jobs} | {wall:.0f} | {wall / args.students:.1f} | {runs[first][0] / wall:.2f}x "
                     f"| {' / '.join(f'{v:.2f}' for v in load)} |")
    lines += ["", f"Identical grades.csv and per-cell scores in every run: {'yes' if same else 'NO'}."]
    report = "\n".join(lines) + "\n"
    print("\n" + report)
    (ROOT / "bench").mkdir(exist_ok=True)
    (ROOT / "bench" / "grading.md").write_text(report)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
