"""Exact JSON round trips for event payloads and metadata, built on cattrs.

Typed fields are (un)structured by their annotations: a `Decimal` travels as its string (so
`1.10` keeps its exponent), a datetime as ISO 8601 with its offset, UUIDs and dates as strings,
enums as their values, nested attrs classes as objects. Values whose static type is unknown
(`Any`, metadata values, bare `list`/`dict`/`tuple`) carry a small tag instead, e.g.
`{"$decimal": "1.10"}`, so they come back with their type too.
"""

from __future__ import annotations

import enum
import json
import math
import re
import typing
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any, TypeVar
from uuid import UUID

import attrs
import cattrs
import orjson
from cattrs.gen import make_dict_unstructure_fn, override

from ..errors import SerializationError
from .validation import check_aware

JSONDict = dict[str, Any]
_T = TypeVar("_T")

_MINUTE = timedelta(minutes=1)
_TAGS = ("$decimal", "$uuid", "$datetime", "$date", "$tuple", "$dict", "$float")
_BARE_CONTAINERS: frozenset[object] = frozenset(
    {list, dict, tuple, typing.List, typing.Dict, typing.Tuple}  # noqa: UP006
)


def _unstructure_datetime(value: datetime) -> str:
    offset = check_aware(value, "datetime value").utcoffset()
    if offset is not None and offset % _MINUTE:
        # Offsets with seconds do not survive fromisoformat on every Python: keep the instant.
        try:
            return value.astimezone(UTC).isoformat()
        except OverflowError:
            raise SerializationError(
                f"{value!r} has an offset with seconds and no UTC equivalent"
            ) from None
    return value.isoformat()


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise SerializationError(f"cannot store the float {value!r}: JSON has no {value!r}")
    return value


def _unstructure_decimal(value: object) -> str:
    # `str` would take anything (a float, a set) and store text that no longer reads back.
    if not isinstance(value, Decimal):
        raise SerializationError(f"expected a Decimal, got {type(value).__name__}: {value!r}")
    return str(value)


def _unstructure_uuid(value: object) -> str:
    if not isinstance(value, UUID):
        raise SerializationError(f"expected a UUID, got {type(value).__name__}: {value!r}")
    return str(value)


def _unstructure_date(value: object) -> str:
    # A datetime is a date, but stored as one it would silently lose its time.
    if not isinstance(value, date) or isinstance(value, datetime):
        raise SerializationError(
            f"expected a date, got {type(value).__name__}: {value!r} "
            "(annotate the field `datetime` to store a datetime)"
        )
    return value.isoformat()


def _structure_none(value: object, _: object) -> None:
    if value is not None:
        raise TypeError(f"expected None, got {type(value).__name__}")


def _iso_hook(
    cls: type[_T], parse: Callable[[str], _T], what: str
) -> Callable[[object, object], _T]:
    """A structure hook: a `cls` as it is, or parsed from its ISO 8601 text."""

    def structure(value: object, _: object) -> _T:
        if isinstance(value, cls):
            return value
        if not isinstance(value, str):
            raise TypeError(f"expected {what}, got {type(value).__name__}")
        return parse(value)

    return structure


def _structure_uuid(value: object, _: object) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


def _structure_decimal(value: object, _: object) -> Decimal:
    if isinstance(value, (str, int)):
        return Decimal(value)
    raise TypeError(f"expected a decimal string, got {type(value).__name__}")


def tag(value: Any) -> Any:
    """JSON-ready form of a value whose type no annotation tells."""
    if isinstance(value, enum.Enum):  # a str or int enum would come back a plain str or int
        raise SerializationError(
            f"cannot store the enum member {value!r} in an untyped position (metadata, Any, "
            "bare list/dict/tuple); annotate the field with its enum type"
        )
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        text = repr(_finite(value))
        # PostgreSQL's JSONB reads 1e+16 back as the integer 10000000000000000, and -0.0
        # as 0.0: such floats carry their repr.
        return {"$float": text} if "e" in text or text == "-0.0" else value
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, UUID):
        return {"$uuid": str(value)}
    if isinstance(value, datetime):
        return {"$datetime": _unstructure_datetime(value)}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, list):
        return [tag(item) for item in value]
    if isinstance(value, tuple):
        return {"$tuple": [tag(item) for item in value]}
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise SerializationError(
                "untyped dicts (metadata, Any, bare dict) need str keys; annotate the field "
                "to use other key types"
            )
        tagged = {key: tag(item) for key, item in value.items()}
        return {"$dict": tagged} if len(value) == 1 and next(iter(value)) in _TAGS else tagged
    raise SerializationError(
        f"cannot store a {type(value).__module__}.{type(value).__qualname__} in an untyped "
        "position (metadata, Any, bare list/dict/tuple); annotate the field with its type"
    )


def untag(value: Any) -> Any:
    """Inverse of `tag`."""
    if isinstance(value, list):
        return [untag(item) for item in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((key, inner),) = value.items()
        if key == "$decimal":
            return Decimal(inner)
        if key == "$uuid":
            return UUID(inner)
        if key == "$datetime":
            return datetime.fromisoformat(inner)
        if key == "$date":
            return date.fromisoformat(inner)
        if key == "$tuple":
            return tuple(untag(item) for item in inner)
        if key == "$dict":
            return {k: untag(v) for k, v in inner.items()}
        if key == "$float":
            return float(inner)
    return {k: untag(v) for k, v in value.items()}


def _is_untyped(tp: object) -> bool:
    return tp is Any or tp in _BARE_CONTAINERS


def _make_converter() -> cattrs.Converter:
    converter = cattrs.Converter(detailed_validation=False)
    converter.register_unstructure_hook(float, _finite)
    converter.register_unstructure_hook(Decimal, _unstructure_decimal)
    converter.register_structure_hook(Decimal, _structure_decimal)
    converter.register_unstructure_hook(UUID, _unstructure_uuid)
    converter.register_structure_hook(UUID, _structure_uuid)
    converter.register_unstructure_hook(datetime, _unstructure_datetime)
    converter.register_structure_hook(
        datetime, _iso_hook(datetime, datetime.fromisoformat, "an ISO 8601 string")
    )
    converter.register_unstructure_hook(date, _unstructure_date)
    converter.register_structure_hook(
        date, _iso_hook(date, date.fromisoformat, "an ISO 8601 date string")
    )
    converter.register_structure_hook(type(None), _structure_none)
    converter.register_unstructure_hook_func(_is_untyped, tag)
    converter.register_structure_hook_func(_is_untyped, lambda value, _: untag(value))
    return converter


converter = _make_converter()


@cache
def _payload_unstructurer(cls: type, omit: frozenset[str]) -> Callable[[Any], JSONDict]:
    overrides = {name: override(omit=True) for name in omit}
    return make_dict_unstructure_fn(cls, converter, **overrides)  # type: ignore[arg-type]


def unstructure_fields(obj: Any, omit: frozenset[str]) -> JSONDict:
    """The attrs instance's fields, less `omit`, as JSON-ready data."""
    cls: type = type(obj)
    try:
        return _payload_unstructurer(cls, omit)(obj)
    except (SerializationError, ValueError):
        raise
    except Exception as exc:
        raise SerializationError(f"cannot serialize {type(obj).__qualname__}: {exc}") from exc


def unstructure_as(value: Any, tp: Any) -> Any:
    try:
        return converter.unstructure(value, tp)
    except (SerializationError, ValueError):
        raise
    except Exception as exc:
        raise SerializationError(f"cannot serialize {value!r}: {exc}") from exc


def structure_as(value: Any, tp: Any) -> Any:
    return converter.structure(value, tp)


def structure(data: Mapping[str, Any], cls: type[Any]) -> Any:
    """Build an attrs instance from JSON-ready data (already typed values are accepted)."""
    return converter.structure(data, cls)


_AS_JSON_GIVES = frozenset({str, int, bool, str | None, int | None, bool | None})
"""Field types whose JSON value needs no structuring (floats do: PostgreSQL may give back
an integral float as an int)."""

FieldStep = tuple[str, Callable[[Any, Any], Any] | None, Any, Any]


def field_steps(cls: type, omit: frozenset[str]) -> tuple[FieldStep, ...] | None:
    """How to structure each field of `cls` (less `omit`) from JSON data without `__init__`:
    `(name, hook or None, type, default)`. None when the class needs its `__init__` (a
    post-init hook or converters), so the caller takes the ordinary path."""
    if hasattr(cls, "__attrs_post_init__"):
        return None
    attrs.resolve_types(cls)
    steps: list[FieldStep] = []
    for field in attrs.fields(cls):
        if field.name in omit:
            continue
        if field.converter is not None or not field.init:
            return None
        tp = field.type
        hook = None if tp in _AS_JSON_GIVES else converter.get_structure_hook(tp)
        steps.append((field.name, hook, tp, field.default))
    return tuple(steps)


_NUL = re.compile(r"(?<!\\)(\\\\)*\\u0000")
"""A NUL character's escape in JSON text (not an escaped backslash followed by `u0000`)."""


# Only JSON's own types: anything else (a datetime, a dataclass, a str subclass) reaching
# the encoder is a value no annotation described, and must fail rather than be stringified.
_ORJSON_OPTIONS = (
    orjson.OPT_NON_STR_KEYS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)


def dumps(data: object) -> str:
    """Strict JSON text: non-finite floats, non-JSON values, text that is not valid Unicode
    (lone surrogates) and NUL characters are a SerializationError.

    orjson writes it (fast); whatever orjson refuses (integers beyond 64 bits, and every
    error) goes through json, which writes big integers and words the error. Non-finite
    floats never get here: the float hooks refuse them (orjson would write null).
    """
    try:
        text = orjson.dumps(data, option=_ORJSON_OPTIONS).decode()
    except (orjson.JSONEncodeError, TypeError):
        try:
            text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
            text.encode("utf-8")  # UnicodeEncodeError (a ValueError) on a lone surrogate
        except (TypeError, ValueError) as exc:
            raise SerializationError(f"cannot encode as JSON: {exc}") from exc
    if "\\u0000" in text and _NUL.search(text):
        # PostgreSQL's JSONB cannot hold NUL; every backend refuses it, so none differs.
        raise SerializationError("strings with NUL characters (\\x00) cannot be stored")
    return text


_LONG_NUMBER = re.compile(r"[0-9]{19}")


def loads(text: str | bytes) -> Any:
    """orjson's speed, json's exactness: orjson reads integers beyond 64 bits as floats."""
    if _LONG_NUMBER.search(text if isinstance(text, str) else text.decode()):
        return json.loads(text)
    return orjson.loads(text)


def fields_of(cls: type) -> tuple[str, ...]:
    return tuple(field.name for field in attrs.fields(cls))
