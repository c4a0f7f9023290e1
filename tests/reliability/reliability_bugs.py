"""The defects the reliability suite still shows, as the reasons of its strict xfails.

Each is numbered like docs/reliability.md ("Defects found and fixed"). R1-R5 and R7 are
fixed; R6 remains for typed float fields on PostgreSQL. When a fix lands, its xfails start
passing and fail as XPASS(strict): remove the mark then.
"""

from __future__ import annotations

import pytest

PG_NEGATIVE_ZERO = "R6: PostgreSQL's JSONB has no negative zero: -0.0 comes back 0.0"


def expect_bug(request: pytest.FixtureRequest, reason: str) -> None:
    """Mark the running test a strict xfail: it shows the defect `reason` names."""
    request.applymarker(pytest.mark.xfail(strict=True, reason=reason))
