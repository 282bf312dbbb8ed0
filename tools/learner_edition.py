"""`make learner-edition DEST=../spark-ml-learners`: a repository learners may see.

It holds the released lessons (course/), the course package (sparkcourse/), the data, the build
files, the tests that make sense for a learner (the package's unit tests and a test that every
released lesson runs with only its exercises failing) and a README for learners, with
`make lab`, `make check N=..` and `make test` of its own. It holds no solutions/, no hidden-test
text, no gradebook and no grading tools; before committing, every file is searched for every
solution and hidden-test line of solutions/ and the edition is refused if one is found.

Files are taken from a commit (default HEAD), never from the work tree: an edition is the course
at one commit, whatever is being edited meanwhile. The solutions searched for are that commit's.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from tools import ROOT
TEMPLATES = Path(__file__).resolve().parent / "learner"

#: Copied from the course as they are (tracked files only).
INCLUDE = ["course", "sparkcourse", "datasets", "examples", "requirements", "pyproject.toml", "environment.yml",
           "LICENSE", "LICENSE-CONTENT.md", "conftest.py", "tools/__init__.py", "tools/bootstrap.py",
           "tools/find-python", "tools/common.mk", "tools/check_lesson.py", "tools/notebooks.py"]
#: The course's tests that need neither solutions/ nor the grading tools.
LEARNER_TESTS = ["processes.py", "schedule.py", "nbval_report.py", "shared_jvm.py", "test_checks.py", "test_spoofed_answers.py", "test_cluster.py",
                 "test_compare.py", "test_datasets.py", "test_emr.py", "test_environment.py", "test_features.py", "test_java.py", "test_lesson_data.py",
                 "test_plots.py", "test_records.py", "test_services.py", "test_session.py", "test_workspace.py"]
#: Written from tools/learner/: destination -> template.
GENERATED = {"README.md": "README.md", "Makefile": "Makefile", "nbgrader_config.py": "nbgrader_config.py",
             ".gitignore": "gitignore", "tests/test_lessons_run.py": "tests/test_lessons_run.py"}
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
MIN_LENGTH = 12  # shorter lines (`return df`, `spark.stop()`) are no answer on their own
#: A line that only opens a bracket (`other = spark.createDataFrame(`) names a call, not its values.
OPENERS = ("(", "[", "{")


def telling(line: str) -> bool:
    """Whether a stripped line of an answer or hidden test could give it away on its own."""
    return len(line) >= MIN_LENGTH and not line.startswith("#") and not line.endswith(OPENERS)


def export(root: Path, paths: list[str], dest: Path, rev: str = "HEAD") -> None:
    """Write ``paths`` as they are in commit ``rev`` of the repository ``root`` into ``dest``."""
    listed = subprocess.run(["git", "ls-tree", "-r", "--name-only", rev, "--", *paths], cwd=root,
                            capture_output=True, text=True, check=True).stdout.split()
    if not listed:
        return
    with tempfile.TemporaryFile() as archive:
        subprocess.run(["git", "archive", "--format=tar", rev, "--", *paths], cwd=root, stdout=archive, check=True)
        archive.seek(0)
        with tarfile.open(fileobj=archive) as tar:
            tar.extractall(dest, filter="data")


def tracked_lessons(root: Path = ROOT, rev: str = "HEAD") -> list[str]:
    """The lesson folders of course/ in commit ``rev`` (a lesson being written is not published)."""
    listed = subprocess.run(["git", "ls-tree", "-d", "--name-only", rev, "course/"], cwd=root,
                            capture_output=True, text=True, check=True).stdout.split()
    return sorted(p.split("/")[1] for p in listed)


def _regions(source: str, begin: str, end: str) -> list[str]:
    lines, inside = [], False
    for line in source.splitlines():
        if begin in line:
            inside = True
        elif end in line:
            inside = False
        elif inside:
            lines.append(line.strip())
    return lines


def secret_regions(solutions: Path, release: Path, lessons: list[str] | None = None) -> list[tuple[str, list[str]]]:
    """Per solution or hidden-test region of solutions/ (of ``lessons``, default all): where it is,
    and its :func:`telling` lines (at least MIN_LENGTH long, no comment, not a bare opening
    bracket) that the release does not show anywhere.

    A line the release shows (``model.write().overwrite().save(path)`` in one lesson's text and
    another's answer) is public already; what the release itself shows is checked by the
    conventions tests (no solutions, no hidden tests, no outputs in course/).
    """
    import nbformat

    public = "\n".join(c.source for path in sorted(release.glob("*/*.ipynb"))
                       for c in nbformat.read(path, as_version=4).cells)
    found = []
    for path in sorted(solutions.glob("*/*.ipynb")):
        if lessons is not None and path.parent.name not in lessons:
            continue
        for cell in nbformat.read(path, as_version=4).cells:
            for begin, end in (("BEGIN SOLUTION", "END SOLUTION"), ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS")):
                lines = [line for line in _regions(cell.source, begin, end)
                         if telling(line) and line not in public]
                if lines:
                    grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "?")
                    found.append((f"{path.parent.name} {grade_id} ({begin.split()[1].lower()})", lines))
    return found


def _texts(folder: Path):
    """(relative path, text) of every file: a notebook as its cells' sources and outputs."""
    import nbformat

    for path in sorted(p for p in folder.rglob("*") if p.is_file() and ".git" not in p.relative_to(folder).parts):
        try:
            text = path.read_text()
        except (UnicodeDecodeError, OSError):
            continue
        if path.suffix == ".ipynb":
            nb = nbformat.reads(text, as_version=4)
            text = "\n".join([c.source for c in nb.cells] + [json.dumps(c.get("outputs", [])) for c in nb.cells])
        yield str(path.relative_to(folder)), text


def leaks(edition: Path, solutions: Path = ROOT / "solutions", release: Path = ROOT / "course",
          lessons: list[str] | None = None) -> list[str]:
    """What in ``edition`` a learner must not see: a solutions/ folder, a gradebook, solution or
    hidden-test markers in a notebook, and any solution or hidden-test region of ``solutions``
    (of ``lessons``) found in a file: any line of a hidden test; two lines of an answer, or its
    only line (one common line of a longer answer, ``return model`` or ``LogisticRegression(),``,
    is no answer on its own)."""
    found = [f"{p.relative_to(edition)}: must not be in a learner edition" for pattern in ("solutions", "*.db")
             for p in edition.rglob(pattern) if ".git" not in p.relative_to(edition).parts]
    regions = secret_regions(solutions, release, lessons)
    for name, text in _texts(edition):
        if name.endswith(".ipynb"):
            found += [f"{name}: marker {m!r}" for m in MARKERS if m in text]
        for where, lines in regions:
            shown = [line for line in lines if line in text]
            if len(shown) >= (1 if "(hidden)" in where else min(2, len(lines))):
                found.append(f"{name}: {len(shown)} line(s) of {where}, e.g. {shown[0][:60]!r}")
    return found


def build(dest: Path, root: Path = ROOT, lessons: list[str] | None = None, rev: str = "HEAD") -> Path:
    """Write the learner edition of commit ``rev`` into ``dest`` (new or empty) as a git repository
    with one commit. ``lessons``: the lesson folders to publish (e.g. a term's); default all."""
    dest = Path(dest).resolve()
    if dest.exists() and any(dest.iterdir()):
        raise SystemExit(f"{dest} is not empty: give a new folder, e.g. DEST=../spark-ml-learners")
    if root in (dest, *dest.parents):
        raise SystemExit(f"{dest} is inside the course: give a folder outside it")
    all_lessons = tracked_lessons(root, rev)
    unknown = sorted(set(lessons or []) - set(all_lessons))
    if unknown:
        raise SystemExit(f"no such lesson in course/: {', '.join(unknown)} (there are {', '.join(all_lessons)})")
    lessons = all_lessons if lessons is None else sorted(lessons)
    paths = [p for p in INCLUDE if p != "course"] + [f"course/{name}" for name in lessons]
    paths += [f"tests/{name}" for name in LEARNER_TESTS]
    dest.mkdir(parents=True, exist_ok=True)
    export(root, paths, dest, rev)
    for target, template in GENERATED.items():
        (dest / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(TEMPLATES / template, dest / target)
    with tempfile.TemporaryDirectory() as sources:  # the commit's solutions and release, to search for
        export(root, ["solutions", "course"], Path(sources), rev)
        found = leaks(dest, Path(sources) / "solutions", Path(sources) / "course", lessons)
    if found:
        shutil.rmtree(dest)
        raise SystemExit("learner edition refused, it would show answers:\n  " + "\n  ".join(found[:20]) +
                         "\nChange the exercise or the file that shows its answer, or leave the lesson out (LESSONS=...).")
    commit = subprocess.run(["git", "rev-parse", "--short", rev], cwd=root, capture_output=True, text=True).stdout.strip()
    git = ["git", "-c", "user.name=Spark ML course", "-c", "user.email=course@example.invalid", "-c", "init.defaultBranch=main"]
    subprocess.run([*git, "init", "-q"], cwd=dest, check=True)
    subprocess.run([*git, "add", "."], cwd=dest, check=True)
    subprocess.run([*git, "commit", "-q", "-m", f"Learner edition of the course at {commit}"], cwd=dest, check=True)
    return dest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dest", nargs="?", default="", help="a new folder, e.g. ../spark-ml-learners")
    parser.add_argument("--lessons", nargs="*", help="only these lesson folders or numbers (default: all)")
    args = parser.parse_args(argv)
    if not args.dest:
        print("usage: make learner-edition DEST=../spark-ml-learners", file=sys.stderr)
        return 2
    lessons = None
    if args.lessons:
        folders = tracked_lessons()
        lessons = [next((f for f in folders if f == name or f.startswith(f"{name.zfill(2)}_")), name)
                   for name in args.lessons]
    dest = build(Path(args.dest), lessons=lessons)
    print(f"learner edition written to {dest} (a git repository, one commit); no solution or hidden-test line in it.")
    print("Publish it to your learners, e.g.: cd", dest, "&& git remote add origin <url> && git push -u origin main")
    return 0


if __name__ == "__main__":
    sys.exit(main())
