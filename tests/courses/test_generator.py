"""The committed course files are exactly what courses/tools/build_courses.py writes.

Edit the generator's sources, re-run it and commit both; this catches a notebook edited by
hand (the next regeneration would silently undo it) or a generator change not re-run.
"""

from __future__ import annotations

import sys

from courses_testlib import COURSES


def test_committed_courses_match_the_generator(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(COURSES / "tools"))
    import build_courses

    try:
        for spec in build_courses.COURSES:
            built = build_courses.build(spec, tmp_path)
            committed = COURSES / spec["slug"]
            generated = sorted(p.relative_to(built) for p in built.rglob("*") if p.is_file())
            assert generated, spec["slug"]
            for rel in generated:
                assert (committed / rel).read_bytes() == (built / rel).read_bytes(), (
                    f"courses/{spec['slug']}/{rel} differs from what build_courses.py writes; "
                    "run `python courses/tools/build_courses.py` and commit the result"
                )
    finally:
        for name in ("build_courses", "nbbuild", "data_analysis_pandas",
                     "python_foundations_lessons", "python_foundations_assignments"):
            sys.modules.pop(name, None)
