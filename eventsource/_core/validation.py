"""Primitive argument checks shared by the value types, the events and the store rules."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

MAX_AGGREGATE_TYPE_LENGTH = 255


def check_aware(value: object, name: str) -> datetime:
    """Return `value` if it is a timezone-aware datetime; naive ones are a ValueError."""
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    return value


def check_uuid(value: object, name: str) -> UUID:
    if not isinstance(value, UUID):
        raise TypeError(f"{name} must be a UUID, got {type(value).__name__}: {value!r}")
    return value


def check_optional_uuid(value: object, name: str) -> UUID | None:
    return None if value is None else check_uuid(value, name)


def check_int(value: object, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    return value


def check_aggregate_type(value: object, name: str = "aggregate_type") -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__}")
    if not value:
        raise ValueError(f"{name} must not be empty")
    if len(value) > MAX_AGGREGATE_TYPE_LENGTH:
        raise ValueError(
            f"{name} must be at most {MAX_AGGREGATE_TYPE_LENGTH} characters, got {len(value)}"
        )
    if "\x00" in value:
        raise ValueError(f"{name} must not contain NUL characters")
    return check_unicode(value, name)


def check_unicode(value: str, name: str) -> str:
    """Return `value` if it is valid Unicode text (no lone surrogates, which no database stores)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{name} is not valid Unicode text (it has a lone surrogate)") from None
    return value


def to_timestamp(value: object, name: str) -> datetime:
    """An aware datetime, or epoch seconds (int or float) taken as UTC."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    return check_aware(value, name)


def utcnow() -> datetime:
    return datetime.now(UTC)
