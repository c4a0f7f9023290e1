"""The defects the reliability suite found, as the reasons of its strict xfails.

Each is numbered like docs/reliability.md ("Defects found"), which has the details and the
proposed fixes. When a fix lands, its xfails start passing and fail as XPASS(strict): remove
the mark then.
"""

from __future__ import annotations

import pytest

STALE_POOL_CONNECTIONS = (
    "R1: the pool hands out connections the server has closed; the first call after a "
    "disconnect fails although the server is up"
)
PG_OCCURRED_AT_OUT_OF_RANGE = (
    "R2: PostgreSQL stores an occurred_at outside years 1-9999 in UTC, then cannot read it "
    "back: the stream and the log become unreadable"
)
BIG_INTS_BECOME_FLOATS = (
    "R4: ints beyond 64 bits come back as floats (orjson in _codec.loads): silent precision loss"
)
PG_FLOAT_EXPONENT = (
    "R5: PostgreSQL's JSONB turns a float like 1e16 into the integer 10000000000000000"
)
PG_NEGATIVE_ZERO = "R6: PostgreSQL's JSONB has no negative zero: -0.0 comes back 0.0"
SUB_SECOND_OFFSET = (
    "R7: a UTC offset under one second (+00:00:00.000001) is read back as UTC "
    "(datetime.fromisoformat): the instant moves"
)


def expect_bug(request: pytest.FixtureRequest, reason: str) -> None:
    """Mark the running test a strict xfail: it shows the defect `reason` names."""
    request.applymarker(pytest.mark.xfail(strict=True, reason=reason))
