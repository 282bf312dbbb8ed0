"""The learner workspace gets new lessons and never loses a learner's edits."""

from __future__ import annotations

from sparkcourse.workspace import sync_workspace


def test_new_lessons_added_existing_kept(tmp_path):
    course = tmp_path / "course"
    (course / "00_setup").mkdir(parents=True)
    (course / "00_setup" / "00_setup.ipynb").write_text("release 1")
    space = tmp_path / "workspace"
    assert [line.split()[0] for line in sync_workspace(space, course)] == ["added"]
    (space / "00_setup" / "00_setup.ipynb").write_text("my answers")

    (course / "00_setup" / "00_setup.ipynb").write_text("release 2")
    (course / "01_dataframes").mkdir()
    (course / "01_dataframes" / "01_dataframes.ipynb").write_text("new lesson")
    done = sync_workspace(space, course)
    assert [line.split()[0] for line in done] == ["kept", "added"]
    assert (space / "00_setup" / "00_setup.ipynb").read_text() == "my answers"
    assert (space / "01_dataframes" / "01_dataframes.ipynb").read_text() == "new lesson"
    assert sorted(p.name for p in space.iterdir()) == ["00_setup", "01_dataframes"]
