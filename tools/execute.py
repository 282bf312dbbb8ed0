"""Re-execute solutions/ notebooks and store their outputs (`make outputs`).

The only way stored outputs change. It uses the kernel and environment the tests use (the
course kernel with JVM output kept out of cells, no Spark UI), and writes notebooks without
execution metadata or interpreter patch versions, so stored outputs stay byte-stable.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import nbformat

from tools import ROOT
from tools.notebooks import lesson_notebooks, normalize_metadata, notebook_client, test_environment


def execute(path: Path, timeout: int = 600) -> float:
    nb = nbformat.read(path, as_version=4)
    started = time.monotonic()
    notebook_client(nb, path.parent, timeout=timeout, record_timing=False).execute()
    normalize_metadata(nb)
    nbformat.write(nb, path)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lesson", help="only notebooks whose name starts with this, e.g. 03")
    args = parser.parse_args()
    os.environ.update(test_environment())
    for path in lesson_notebooks(ROOT / "solutions", args.lesson):
        print(f"executing {path.relative_to(ROOT)} ...", flush=True)
        print(f"  stored outputs in {execute(path):.1f} s", flush=True)


if __name__ == "__main__":
    main()
