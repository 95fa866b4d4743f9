"""Publishing a release: build the student version, check it in the sandbox, store it.

Shared by the instructor API (POST .../release) and the CLI (`python -m grader release`).
The engine (grader.engine.release) builds with nbgrader's own preprocessors and checks that the
source passes its tests and the student version fails them; a release whose check fails
is refused with the engine's report, and nothing is stored.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from grader.service.errors import ReleaseRejected, SandboxUnavailable
from grader.service.gradebook import Gradebook, Person, check_slug, parse_due, validate_upload


def _int_or_none(value, what: str) -> int | None:
    from grader.service.errors import InvalidRequest

    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidRequest(f"{what} must be a whole number, not {value!r}") from None


def _float(value, what: str) -> float:
    from grader.service.errors import InvalidRequest

    if value in (None, ""):
        return 0.0
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InvalidRequest(f"{what} must be a number, not {value!r}") from None


async def publish_release(
    gradebook: Gradebook,
    pool,
    person: Person,
    course: str,
    assignment: str,
    files: dict[str, bytes],
    options: dict,
    check: bool | None = None,
) -> dict:
    """Build, check and store a new release version; raises ReleaseRejected on a bad one."""
    from grader.engine.release import ReleaseError, build_release, check_release_async

    check_slug(assignment, "assignment")
    # who may release is decided before any work is done
    if not await asyncio.to_thread(gradebook.is_instructor, person, course):
        from grader.service.errors import Forbidden

        raise Forbidden(f"{person.name} is not an instructor of {course}")
    files = validate_upload(files, gradebook.settings)
    if not any(name.endswith(".ipynb") and "/" not in name for name in files):
        raise ReleaseRejected(
            "no notebook at the top of the upload: a release needs the assignment's source "
            "notebooks (NAME.ipynb) in nbgrader's format"
        )
    due_at = parse_due(options.get("due_at"))
    max_submissions = _int_or_none(options.get("max_submissions"), "max_submissions")
    per_hour = _float(options.get("late_penalty_per_hour"), "late_penalty_per_hour")
    with tempfile.TemporaryDirectory(prefix="grader-release-") as tmp:
        source = Path(tmp) / assignment
        for name, data in files.items():
            target = source / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        try:
            build = await asyncio.to_thread(build_release, source, assignment)
        except ReleaseError as e:
            raise ReleaseRejected(f"the source notebooks are not valid nbgrader notebooks: {e}") from e
    report: dict = {"checked": False}
    if gradebook.settings.check_releases if check is None else check:
        from grader.engine.sandbox import SandboxError

        try:
            result = await check_release_async(build, pool)
        except SandboxError as e:
            raise SandboxUnavailable(
                f"the release could not be checked because the sandbox is unavailable ({e}): "
                "ask the operator to check Docker and the learner image; nothing was published"
            ) from e
        report = {
            "checked": True,
            "ok": bool(result.ok),
            "non_discriminating": list(result.non_discriminating),
            "failing_in_source": list(result.failing_in_source),
            "messages": list(result.messages),
        }
        if not result.ok:
            problems = []
            if result.failing_in_source:
                problems.append(
                    "tests that fail on the instructor's own solution: "
                    + ", ".join(result.failing_in_source)
                )
            if result.non_discriminating:
                problems.append(
                    "tests the unchanged student version already passes (they do not tell a "
                    "solution from no solution): " + ", ".join(result.non_discriminating)
                )
            raise ReleaseRejected(
                "release refused: " + "; ".join(problems or result.messages or ["check failed"]),
                report,
            )
    return await asyncio.to_thread(
        gradebook.store_release,
        person.name,
        course,
        assignment,
        files,
        build,
        title=str(options.get("title") or ""),
        due_at=due_at,
        late_policy=str(options.get("late_policy") or "none"),
        late_penalty_per_hour=per_hour,
        max_submissions=max_submissions,
        check_report=report,
    )
