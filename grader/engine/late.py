"""Late penalties, computed per notebook exactly as nbgrader does.

nbgrader (``AssignLatePenalties`` + ``LateSubmissionPlugin``): when a submission is late,
each notebook's penalty is the plugin's answer for that notebook's score, clamped to
``[0, score]``; the notebook's final score is ``score - penalty``. Its built-in methods are
``none`` and ``zero`` (penalty = the whole score). ``subtract_per_hour`` is the plugin
nbgrader's documentation shows as its example of a custom policy: a fixed number of
points for every started hour late.
"""

from __future__ import annotations

import datetime as dt
import math

LATE_POLICIES = ("none", "zero", "subtract_per_hour")


def seconds_late(submitted_at: dt.datetime, due_at: dt.datetime | None) -> float:
    """nbgrader's SubmittedAssignment.total_seconds_late."""
    if due_at is None:
        return 0.0
    return max(0.0, (submitted_at - due_at).total_seconds())


def notebook_penalty(
    policy: str, score: float, late_seconds: float, per_hour: float = 0.0
) -> float:
    """Penalty for one notebook with this score, handed in late_seconds after the due date."""
    if late_seconds <= 0 or policy == "none":
        return 0.0
    if policy == "zero":
        penalty = score
    elif policy == "subtract_per_hour":
        penalty = math.ceil(late_seconds / 3600) * per_hour
    else:
        raise ValueError(f"unknown late policy {policy!r}: use one of {', '.join(LATE_POLICIES)}")
    # nbgrader's _check_late_penalty
    return min(max(penalty, 0.0), score)
