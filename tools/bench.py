"""`make bench`: time every solutions notebook and the test suites on this machine.

Per notebook: wall seconds, the CPU seconds of the kernel and its JVM and those of every other
process meanwhile (a wall is comparable only when the latter is near 0), Spark session start
seconds (the cell that calls get_spark), peak memory of the kernel and its JVM together. Then the
wall time of `make test-fast` and `make test`. Notebooks run in memory (stored outputs are not
touched), with the environment the tests use. Results are printed and written to bench/results.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import time
from datetime import datetime, timezone
from pathlib import Path

import nbformat
import psutil

from tools import ROOT
from sparkcourse.benchmark import PeakMemory, descendants  # one memory sampler, also lesson 12's
from sparkcourse.java import ensure_java_home
from sparkcourse.session import cds_archive_path
from tools.notebooks import lesson_notebooks, notebook_client, test_environment

SUITES = {"make test-fast": ["make", "test-fast"], "make test": ["make", "test"]}


def _seconds(cell) -> float:
    timing = cell.metadata.get("execution", {})
    start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not (start and end):
        return float("nan")
    parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))  # noqa: E731
    return (parse(end) - parse(start)).total_seconds()


class Usage(PeakMemory):
    """Peak memory and CPU seconds of this process's descendants (a notebook's kernel and JVM)
    while it runs: the last CPU time seen of each process, less what those already running at the
    start had used."""

    def __init__(self):
        self.last: dict[int, float] = {}
        self.before: dict[int, float] | None = None
        super().__init__(self._descendants_timed, interval=0.2)

    def _descendants_timed(self) -> list[psutil.Process]:
        """descendants(), each one's CPU seconds noted on the way (one walk per sample)."""
        processes = descendants()
        for process in processes:
            try:
                times = process.cpu_times()
                self.last[process.pid] = times.user + times.system
            except psutil.Error:
                pass
        if self.before is None:  # the first sample, on entering
            self.before = dict(self.last)
        return processes

    @property
    def cpu(self) -> float:
        return sum(seconds - (self.before or {}).get(pid, 0.0) for pid, seconds in self.last.items())


def machine_cpu_seconds() -> float:
    """Busy CPU seconds of the whole machine since boot, all cores (idle and I/O wait left out)."""
    times = psutil.cpu_times()
    return sum(getattr(times, name, 0.0) for name in ("user", "nice", "system", "irq", "softirq", "steal"))


def bench_notebook(path: Path) -> dict:
    nb = nbformat.read(path, as_version=4)
    client = notebook_client(nb, path.parent, timeout=900, record_timing=True)
    started, busy = time.monotonic(), machine_cpu_seconds()
    with Usage() as usage:
        client.execute()
    wall, busy = time.monotonic() - started, machine_cpu_seconds() - busy
    own = usage.cpu
    session_cells = [c for c in nb.cells if c.cell_type == "code" and "get_spark(" in c.source]
    return {"notebook": path.parent.name, "wall": wall, "cpu": own, "other_cpu": max(0.0, busy - own),
            "spark_start": _seconds(session_cells[0]) if session_cells else float("nan"),
            "peak_gib": usage.peak / 2**30}


def timed(command: list[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    started = time.monotonic()
    code = subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          env={**os.environ, **(env or {})}).returncode
    return time.monotonic() - started, code


def file_seconds(junit: Path) -> dict[str, float]:
    """Seconds per test file (a lesson's notebook counts as one file) from pytest's JUnit XML."""
    import xml.etree.ElementTree as ET

    seconds: dict[str, float] = {}
    for case in ET.parse(junit).iter("testcase"):
        parts = case.get("classname", "").split(".")
        name = f"solutions/{parts[1]}/{parts[1]}.ipynb" if parts[0] == "solutions" else f"{parts[0]}/{parts[1]}.py"
        seconds[name] = seconds.get(name, 0.0) + float(case.get("time") or 0)
    return seconds


def schedule_table(measured: dict[str, float], listed: dict[str, int]) -> list[str]:
    """Measured seconds per file beside FILE_SECONDS in tests/schedule.py (the order in which
    `make test` hands out its files)."""
    lines = ["| file | seconds in this run | FILE_SECONDS |", "|---|---:|---:|"]
    for name, value in sorted(measured.items(), key=lambda item: -item[1]):
        if value >= 10 or name in listed:
            lines.append(f"| {name} | {value:.0f} | {listed.get(name, '-')} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lesson", help="only notebooks whose name starts with this")
    parser.add_argument("--no-suite", action="store_true", help="skip timing make test / test-fast")
    args = parser.parse_args()
    os.environ.update(test_environment())
    (ROOT / "bench").mkdir(exist_ok=True)
    rows = []
    for path in lesson_notebooks(ROOT / "solutions", args.lesson):
        rows.append(bench_notebook(path))
        row = rows[-1]
        print(f"{row['notebook']:<28} {row['wall']:6.1f} s   CPU {row['cpu']:6.1f} s (others {row['other_cpu']:5.1f} s)"
              f"   spark start {row['spark_start']:5.1f} s   peak {row['peak_gib']:.2f} GiB", flush=True)
    archive = cds_archive_path(ensure_java_home())
    lines = [f"# Benchmark {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores", "",
             f"JVM class-data archive: {'present' if archive.exists() else 'MISSING (every Spark start is slower)'}.",
             "A wall is comparable with another run's only when other processes used about no CPU meanwhile.", "",
             "| notebook | wall s | CPU s | CPU s of other processes | Spark start s | peak memory GiB |",
             "|---|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['notebook']} | {r['wall']:.1f} | {r['cpu']:.1f} | {r['other_cpu']:.1f} | {r['spark_start']:.1f} "
              f"| {r['peak_gib']:.2f} |" for r in rows]
    walls = sum(r["wall"] for r in rows)
    lines.append(f"| **sum of single notebook walls** | {walls:.1f} | {sum(r['cpu'] for r in rows):.1f} "
                 f"| {sum(r['other_cpu'] for r in rows):.1f} | | |")
    if not args.no_suite:
        suite = {}
        junit = ROOT / "bench" / "make-test.xml"
        for name, command in SUITES.items():
            env = {"PYTEST_ADDOPTS": f"--junitxml={junit}"} if name == "make test" else {}
            seconds, code = timed(command, env)
            suite[name] = seconds
            lines.append(f"| **{name}** (total) | {seconds:.1f} | | | | {'passed' if code == 0 else f'FAILED ({code})'} |")
        workers = int(os.environ.get("JOBS") or 2)
        floor = walls / workers
        lines += ["", f"make test / (sum of notebook walls / {workers} workers) = "
                      f"{suite['make test']:.0f} s / {floor:.0f} s = {suite['make test'] / floor:.2f} (target: at most 2.5)"]
        if junit.is_file():
            from tests.schedule import FILE_SECONDS

            lines += ["", "Seconds per file in this `make test` (update FILE_SECONDS in tests/schedule.py "
                          "when they drift):", ""]
            lines += schedule_table(file_seconds(junit), FILE_SECONDS)
    report = "\n".join(lines)
    (ROOT / "bench" / "results.md").write_text(report + "\n")
    print("\n" + report)


if __name__ == "__main__":
    main()
