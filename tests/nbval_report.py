"""A notebook cell that fails on output it should not have shows that output.

nbval names only the kind of an unexpected output ("Unexpected output fields from running code:
{'stderr'}"), which leaves a cell that warns only now and then (on a loaded machine, say)
impossible to diagnose from CI's log. This plugin adds the text of every stream the run
printed that the stored cell does not have to the failure report.
"""

from __future__ import annotations

import pytest


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    outputs = getattr(item, "test_outputs", None)
    if report.when == "call" and report.failed and outputs:
        stored = {o.get("name") for o in item.cell.get("outputs", []) if o.get("output_type") == "stream"}
        unexpected = [f"[{o['name']}] {o.get('text', '')}" for o in outputs
                      if o.get("output_type") == "stream" and o.get("name") not in stored]
        if unexpected:
            report.sections.append(("streams the stored cell does not have", "".join(unexpected)[-4000:]))
    return report
