"""course/ is exactly what nbgrader generates from solutions/ (fastbook-style drift check)."""

from __future__ import annotations

import difflib
from pathlib import Path

from tools.release import generate
from tools import ROOT



def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_course_is_the_generated_release(tmp_path):
    generate(tmp_path / "release")
    fresh, committed = _files(tmp_path / "release"), _files(ROOT / "course")
    assert sorted(fresh) == sorted(committed), "course/ has other files than the release: run make release"
    for name, content in fresh.items():
        if content != committed[name]:
            diff = "".join(list(difflib.unified_diff(
                committed[name].decode().splitlines(True), content.decode().splitlines(True),
                f"course/{name}", f"generated/{name}"))[:40])
            raise AssertionError(f"course/{name} drifted from solutions/: run make release\n{diff}")
