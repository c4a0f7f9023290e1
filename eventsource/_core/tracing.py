"""OpenTelemetry spans for store calls: one per public call (one per page for reads).

Only the OpenTelemetry API is used: without a configured SDK every span is a no-op, and
`enable_tracing=False` skips even that.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from uuid import UUID

from opentelemetry import trace

_TRACER = trace.get_tracer("eventsource")
_NO_SPAN = contextlib.nullcontext()


class Tracer:
    """Opens spans named after the store operation, with database semantic conventions."""

    def __init__(self, *, enabled: bool, db_system: str, namespace: str | None = None) -> None:
        self.enabled = enabled
        self.db_system = db_system
        self.namespace = namespace

    def span(
        self,
        operation: str,
        aggregate_id: UUID | None = None,
        aggregate_type: str | None = None,
        event_count: int | None = None,
    ) -> contextlib.AbstractContextManager[object]:
        """A span around a store call; nothing at all while no SDK is configured."""
        if not self.enabled or isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
            return _NO_SPAN
        return self._span(operation, aggregate_id, aggregate_type, event_count)

    @contextlib.contextmanager
    def _span(
        self,
        operation: str,
        aggregate_id: UUID | None,
        aggregate_type: str | None,
        event_count: int | None,
    ) -> Iterator[None]:
        attributes: dict[str, str | int] = {
            "db.system.name": self.db_system,
            "db.operation.name": operation,
            "db.collection.name": "events",
        }
        if self.namespace:
            attributes["db.namespace"] = self.namespace
        if aggregate_id is not None:
            attributes["eventsource.aggregate_id"] = str(aggregate_id)
            attributes["eventsource.stream_id"] = f"{aggregate_id}:{aggregate_type or ''}"
        if aggregate_type is not None:
            attributes["eventsource.aggregate_type"] = aggregate_type
        if event_count is not None:
            attributes["eventsource.event_count"] = event_count
        with _TRACER.start_as_current_span(
            f"eventsource.{operation}", kind=trace.SpanKind.CLIENT, attributes=attributes
        ):
            yield
