"""Item analysis after grading: how the cohort did on each exercise.

Per exercise (grade cell): mean score, share of students with full marks and with zero, the
histogram of scores, and the exercises most often failed (scored 0). Written beside grades.csv
as ``item-analysis-<assignment>.md`` and ``item-analysis-<assignment>.png``.

A student whose notebook could not be graded counts with 0 on every exercise, as in grades.csv.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Item:
    exercise: str  # the grade cell's id
    max_score: float
    students: int
    mean: float
    full: float  # share of students with full marks
    zero: float  # share of students with 0
    histogram: dict  # score -> number of students, every score from 0 to max_score in steps seen

    @property
    def mean_share(self) -> float:
        return self.mean / self.max_score if self.max_score else 0.0


def analyse(cohort: dict[str, dict[str, tuple[float, float]]], order: list[str] | None = None) -> list[Item]:
    """``cohort``: student -> grade cell -> (score, max score). Items in ``order`` (else by name)."""
    names = list(order or [])
    names += sorted({cell for cells in cohort.values() for cell in cells} - set(names))
    items = []
    for name in names:
        marks = [cells[name] for cells in cohort.values() if name in cells]
        if not marks:
            continue
        top = max(m for _, m in marks)
        scores = [s or 0.0 for s, _ in marks]
        counts = Counter(scores)
        histogram = {float(v): counts.get(v, 0) for v in sorted(set(scores) | {0.0, top})}
        n = len(scores)
        items.append(Item(name, top, n, sum(scores) / n, sum(s >= top for s in scores) / n,
                          sum(s == 0 for s in scores) / n, histogram))
    return items


def most_failed(items: list[Item]) -> list[Item]:
    """Exercises by share of students who scored 0, most first (then by lower mean share)."""
    return sorted((i for i in items if i.zero > 0), key=lambda i: (-i.zero, i.mean_share, i.exercise))


def _number(value: float) -> str:
    return f"{value:g}"


def markdown(assignment: str, items: list[Item], picture: str | None = None) -> str:
    students = max((i.students for i in items), default=0)
    lines = [f"# Item analysis: {assignment}", "",
             f"{students} student(s) graded. Per exercise (grade cell): the mean score, the share of students with "
             "full marks and with 0, and how many students got each score.", "",
             "| exercise | points | mean | mean % | full marks | zero | scores (points: students) |",
             "|---|---:|---:|---:|---:|---:|---|"]
    for i in items:
        histogram = ", ".join(f"{_number(score)}: {count}" for score, count in i.histogram.items())
        lines.append(f"| {i.exercise} | {_number(i.max_score)} | {i.mean:.2f} | {100 * i.mean_share:.0f}% "
                     f"| {100 * i.full:.0f}% | {100 * i.zero:.0f}% | {histogram} |")
    lines += ["", "## Most often failed (scored 0)", ""]
    failed = most_failed(items)
    lines += [f"{n}. {i.exercise}: 0 points for {round(i.zero * i.students)} of {i.students} "
              f"({100 * i.zero:.0f}%), full marks for {100 * i.full:.0f}%" for n, i in enumerate(failed, 1)]
    if not failed:
        lines.append("No exercise was scored 0 by anyone.")
    if picture:
        lines += ["", f"![Item analysis of {assignment}]({picture})"]
    return "\n".join(lines) + "\n"


def plot(assignment: str, items: list[Item], path: Path) -> None:
    """One row per exercise: the share with 0 / partial / full marks, and the score histogram."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = max(1, len(items))
    fig, axes = plt.subplots(rows, 2, figsize=(10, 1.2 + 1.6 * rows), squeeze=False,
                             gridspec_kw={"width_ratios": [3, 2]})
    for (left, right), item in zip(axes, items):
        partial = 1 - item.full - item.zero
        start = 0.0
        for share, colour, label in ((item.zero, "#d62728", "0"), (partial, "#ffbf00", "partial"),
                                     (item.full, "#2ca02c", "full marks")):
            left.barh([0], [share], left=start, color=colour, label=label)
            if share >= 0.08:
                left.text(start + share / 2, 0, f"{100 * share:.0f}%", ha="center", va="center", fontsize=9)
            start += share
        left.set_xlim(0, 1)
        left.set_yticks([])
        left.set_title(f"{item.exercise}: mean {item.mean:.2f} / {_number(item.max_score)}", fontsize=10, loc="left")
        scores = list(item.histogram)
        width = min(b - a for a, b in zip(scores, scores[1:])) * 0.8 if len(scores) > 1 else 0.8
        right.bar(scores, list(item.histogram.values()), width=width, color="#1f77b4")
        right.set_xticks(scores)
        right.set_xlabel("points", fontsize=9)
        right.set_ylabel("students", fontsize=9)
        right.yaxis.get_major_locator().set_params(integer=True)
    fig.suptitle(f"Item analysis: {assignment} ({max((i.students for i in items), default=0)} students)")
    if items:
        handles, labels = axes[0][0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 1 - 0.45 / fig.get_figheight()),
                   ncol=3, fontsize=9, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.7 / fig.get_figheight()))
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_item_report(folder: Path, assignment: str, cohort: dict, order: list[str] | None = None) -> tuple[Path, Path]:
    """Write ``item-analysis-<assignment>.md`` and ``.png`` into ``folder``; return their paths."""
    items = analyse(cohort, order)
    picture = Path(folder) / f"item-analysis-{assignment}.png"
    page = Path(folder) / f"item-analysis-{assignment}.md"
    plot(assignment, items, picture)
    page.write_text(markdown(assignment, items, picture.name))
    return page, picture


def gradebook_cohort(db_url: str, assignment: str) -> tuple[dict, list[str]]:
    """student -> grade cell -> (score, max) for every submission of ``assignment`` in a gradebook,
    and the grade cells (by notebook, then name)."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gradebook:
        cells = [c.name for nb in gradebook.find_assignment(assignment).notebooks
                 for c in sorted(nb.grade_cells, key=lambda c: c.name)]
        cohort = {s.student.id: {g.name: (g.score, g.max_score) for nb in s.notebooks for g in nb.grades}
                  for s in gradebook.assignment_submissions(assignment)}
    return cohort, cells
