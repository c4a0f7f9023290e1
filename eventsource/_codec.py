"""Exact JSON round trips for event payloads and metadata, built on cattrs.

Typed fields are (un)structured by their annotations: a `Decimal` travels as its string (so
`1.10` keeps its exponent), a datetime as ISO 8601 with its offset, UUIDs and dates as strings,
enums as their values, nested attrs classes as objects. Values whose static type is unknown
(`Any`, metadata values, bare `list`/`dict`/`tuple`) carry a small tag instead, e.g.
`{"$decimal": "1.10"}`, so they come back with their type too.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any
from uuid import UUID

import attrs
import cattrs
from cattrs.gen import make_dict_unstructure_fn, override

from ._validation import check_aware
from .errors import SerializationError

JSONDict = dict[str, Any]

_TAGS = ("$decimal", "$uuid", "$datetime", "$date", "$tuple", "$dict")
_BARE_CONTAINERS: frozenset[object] = frozenset(
    {list, dict, tuple, typing.List, typing.Dict, typing.Tuple}  # noqa: UP006
)


def _unstructure_datetime(value: datetime) -> str:
    return check_aware(value, "datetime value").isoformat()


def _structure_datetime(value: object, _: object) -> datetime:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise TypeError(f"expected an ISO 8601 string, got {type(value).__name__}")
    return datetime.fromisoformat(value)


def _structure_date(value: object, _: object) -> date:
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise TypeError(f"expected an ISO 8601 date string, got {type(value).__name__}")
    return date.fromisoformat(value)


def _structure_uuid(value: object, _: object) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


def _structure_decimal(value: object, _: object) -> Decimal:
    if isinstance(value, (str, int)):
        return Decimal(value)
    raise TypeError(f"expected a decimal string, got {type(value).__name__}")


def tag(value: Any) -> Any:
    """JSON-ready form of a value whose type no annotation tells."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value
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
    return {k: untag(v) for k, v in value.items()}


def _is_untyped(tp: object) -> bool:
    return tp is Any or tp in _BARE_CONTAINERS


def _make_converter() -> cattrs.Converter:
    converter = cattrs.Converter(detailed_validation=False)
    converter.register_unstructure_hook(Decimal, str)
    converter.register_structure_hook(Decimal, _structure_decimal)
    converter.register_unstructure_hook(UUID, str)
    converter.register_structure_hook(UUID, _structure_uuid)
    converter.register_unstructure_hook(datetime, _unstructure_datetime)
    converter.register_structure_hook(datetime, _structure_datetime)
    converter.register_unstructure_hook(date, date.isoformat)
    converter.register_structure_hook(date, _structure_date)
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
    try:
        return _payload_unstructurer(type(obj), omit)(obj)
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


def structure(data: Mapping[str, Any], cls: type[Any]) -> Any:
    """Build an attrs instance from JSON-ready data (already typed values are accepted)."""
    return converter.structure(data, cls)


def dumps(data: object) -> str:
    """Strict JSON text: non-finite floats and non-JSON values are a SerializationError."""
    try:
        return json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise SerializationError(f"cannot encode as JSON: {exc}") from exc


def loads(text: str | bytes) -> Any:
    return json.loads(text)


def fields_of(cls: type) -> tuple[str, ...]:
    return tuple(field.name for field in attrs.fields(cls))
