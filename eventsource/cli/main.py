"""The `eventsource` command: a thin layer over the library to try, create and inspect stores.

    eventsource demo                      an order workflow on ./eventsource.db (no set-up)
    eventsource init [--print]            create the schema (or show its SQL)
    eventsource streams | read STREAM_ID | tail [--from POSITION] [--follow] | stats

`--url` (or `EVENTSOURCE_URL`) picks the store: `sqlite:///relative.db`,
`sqlite:////absolute/path.db` or `postgresql://user@host/db`. Tables by default, `--json`
for scripts. Events are shown as stored, so no event class is needed to read them.
Exit status: 0; 1 after an error (one line on stderr); 2 for bad arguments; 130 after Ctrl-C
and 143 after SIGTERM (128 + the signal, as shells report it).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import os
import re
import shlex
import shutil
import signal
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

import attrs
import psycopg

from .. import __version__, postgres, sqlite
from ..errors import EventSourceError, StoreUnavailableError
from ..events import EventRegistry
from ..interface import SyncEventStore
from ..raw import RawEvent, read_all_raw, read_stream_raw
from ..types import ReadDirection, ReadOptions
from . import demo

DEFAULT_URL = "sqlite:///eventsource.db"
URL_HELP = "sqlite:///relative/path.db, sqlite:////absolute/path.db or postgresql://..."


class UsageError(Exception):
    """Bad input the command reports in one line."""


@attrs.frozen
class Target:
    """Where a `--url` points: a SQLite file or a PostgreSQL database."""

    backend: str  # "sqlite" or "postgresql"
    location: str  # the SQLite path, or the PostgreSQL URL
    shown: str  # the URL without its password

    @classmethod
    def parse(cls, url: str) -> Target:
        scheme, separator, rest = url.partition("://")
        shown = re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", url)
        if not separator:
            raise UsageError(f"malformed store URL {shown!r}: expected {URL_HELP}")
        scheme = scheme.lower()
        if scheme == "sqlite":
            if not rest.startswith("/") or len(rest) < 2:
                raise UsageError(f"malformed SQLite URL {shown!r}: expected {URL_HELP}")
            return cls("sqlite", rest[1:], shown)
        if scheme in ("postgresql", "postgres"):
            return cls("postgresql", url, shown)
        raise UsageError(f"unsupported URL scheme {scheme!r} in {shown!r}: expected {URL_HELP}")

    def open(
        self, *, create: bool, timeout: float, registry: EventRegistry | None = None
    ) -> SyncEventStore:
        """The store; a missing SQLite file is an error unless `create`.

        A PostgreSQL store is returned once the server accepts a connection: a permanent
        refusal (no such database or role) fails at once, transient trouble after `timeout`.
        """
        if self.backend == "sqlite":
            if not create and not Path(self.location).exists():
                raise UsageError(
                    f"no event store at {self.location} (create one with `eventsource init` "
                    "or try `eventsource demo`)"
                )
            return sqlite.SyncSQLiteEventStore(self.location, event_registry=registry)
        try:
            store = postgres.SyncPostgreSQLEventStore.from_url(
                self.location, event_registry=registry, timeout=timeout, min_size=1
            )
        except psycopg.ProgrammingError as exc:  # from_url's check of a malformed conninfo
            detail = str(exc).replace(self.location, self.shown)  # no password on screen
            raise UsageError(f"malformed PostgreSQL URL {self.shown!r}: {detail}") from exc
        try:
            store.open(wait=True, timeout=timeout)
        except BaseException:
            store.close()
            raise
        return store

    def schema_sql(self) -> str:
        """The schema script `init` runs on this backend."""
        return sqlite.schema_sql() if self.backend == "sqlite" else postgres.schema_sql()


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """One line on stderr, exit status 2."""
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    # Options shared by every command, accepted before or after the command's name.
    common = _Parser(add_help=False)
    common.add_argument(
        "--url",
        default=argparse.SUPPRESS,
        help=f"the store: {URL_HELP} (default: $EVENTSOURCE_URL, else {DEFAULT_URL})",
    )
    common.add_argument(
        "--timeout",
        type=_seconds,
        default=argparse.SUPPRESS,
        help="seconds to wait for PostgreSQL to accept a connection (default: 5); a missing "
        "database or role, or a wrong password, fails at once",
    )
    json_option = _Parser(add_help=False)
    json_option.add_argument(
        "--json", action="store_true", help="JSON for scripts instead of a table"
    )

    parser = _Parser(
        prog="eventsource",
        description="Try, create and inspect eventsource event stores.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"eventsource {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo_command = commands.add_parser(
        "demo", parents=[common], help="walk through an order workflow (nothing to set up)"
    )
    demo_command.set_defaults(run=_demo_command)

    init = commands.add_parser("init", parents=[common], help="create the schema (idempotent)")
    init.add_argument("--print", action="store_true", help="show the SQL instead of running it")
    init.set_defaults(run=_init_command)

    streams = commands.add_parser(
        "streams", parents=[common, json_option], help="list streams, oldest first"
    )
    streams.add_argument("--limit", type=_natural, default=100, help="at most N (default 100)")
    streams.set_defaults(run=_streams_command)

    read = commands.add_parser(
        "read", parents=[common, json_option], help="show the events of a stream"
    )
    read.add_argument("stream_id", metavar="STREAM_ID", help="'<uuid>:<type>', or '<uuid>'")
    read.add_argument(
        "--from",
        dest="from_version",
        type=_natural,
        default=0,
        metavar="VERSION",
        help="exclusive: the events after this stream version; with --backward, the events "
        "before it (default 0: from the start, or with --backward from the end)",
    )
    read.add_argument("--limit", type=_natural, default=None, help="at most N events")
    read.add_argument("--backward", action="store_true", help="newest first")
    read.set_defaults(run=_read_command)

    tail = commands.add_parser(
        "tail", parents=[common, json_option], help="show the end of the global log"
    )
    tail.add_argument(
        "--from",
        dest="from_position",
        type=_natural,
        default=None,
        metavar="POSITION",
        help="exclusive: every event after this global position (default: the last --lines)",
    )
    tail.add_argument(
        "-n", "--lines", type=_natural, default=10, help="without --from: the last N (default 10)"
    )
    tail.add_argument("-f", "--follow", action="store_true", help="keep printing new events")
    tail.add_argument(
        "--interval",
        type=_seconds,
        default=0.5,
        help="with --follow: seconds between polls (default 0.5)",
    )
    tail.set_defaults(run=_tail_command)

    stats = commands.add_parser(
        "stats", parents=[common, json_option], help="events by type and tenant, streams"
    )
    stats.set_defaults(run=_stats_command)
    return parser


def _natural(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError(text)
    return value


_natural.__name__ = "non-negative integer"  # argparse names the type in its message


def _seconds(text: str) -> float:
    """A duration for argparse: positive and finite (no NaN)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value < math.inf:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    url = getattr(args, "url", None) or os.environ.get("EVENTSOURCE_URL") or DEFAULT_URL
    with _PoolErrors() as pool_errors, _stop_on_sigterm():
        try:
            status: int = args.run(args, Target.parse(url), getattr(args, "timeout", 5.0))
            sys.stdout.flush()
            return status
        except (EventSourceError, UsageError, ValueError) as exc:
            message = " ".join(str(exc).split())
            last = pool_errors.last
            if isinstance(exc, StoreUnavailableError) and last and last not in message:
                message += f" (last error: {last})"
            print(f"eventsource: error: {message}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:  # Ctrl-C: the shells' convention, 128 + the signal
            return 128 + signal.SIGINT
        except _Terminated:
            return 128 + signal.SIGTERM
        except BrokenPipeError:  # e.g. `eventsource read ... | head`
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0


class _PoolErrors(logging.Handler):
    """Keeps psycopg_pool's last connection error for our one-line message, off stderr."""

    last: str | None = None
    _logger = logging.getLogger("psycopg.pool")

    def emit(self, record: logging.LogRecord) -> None:
        # "error connecting in %r: %s": the error itself is the last argument.
        args = record.args if isinstance(record.args, tuple) else ()
        self.last = " ".join(str(args[-1] if args else record.getMessage()).split())

    def __enter__(self) -> _PoolErrors:
        self.setLevel(logging.WARNING)
        self._logger.addHandler(self)
        self._propagate, self._logger.propagate = self._logger.propagate, False
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._logger.removeHandler(self)
        self._logger.propagate = self._propagate


class _Terminated(BaseException):
    """SIGTERM arrived: unwind as after Ctrl-C (closing the store) and exit quietly.

    A BaseException, as KeyboardInterrupt is, so no `except Exception` on the way catches it.
    """


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise _Terminated


@contextlib.contextmanager
def _stop_on_sigterm() -> Iterator[None]:
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _invoked_as() -> str:
    """The command as the user ran it, so that the commands we suggest can be pasted back."""
    main_module = sys.modules.get("__main__")
    if getattr(getattr(main_module, "__spec__", None), "name", None) == "eventsource.__main__":
        return f"{_as_typed(sys.executable or 'python')} -m eventsource"
    return _as_typed(sys.argv[0]) if sys.argv and sys.argv[0] else "eventsource"


def _as_typed(path: str) -> str:
    """The bare name when PATH finds this very file under it, else the path (quoted).

    Paths are compared, not files: a venv's `python` links to the system's, but only the
    venv's path runs with the venv's packages.
    """
    name = os.path.basename(path)
    found = shutil.which(name)
    if found and os.path.abspath(found) == os.path.abspath(path):
        return name
    return shlex.quote(path if os.path.dirname(path) else os.path.join(os.curdir, path))


# -- commands ------------------------------------------------------------------------------


def _demo_command(args: argparse.Namespace, target: Target, timeout: float) -> int:
    command = _invoked_as()
    if hasattr(args, "url"):  # named on the command line: the suggested commands need it too
        command += f" --url {shlex.quote(target.shown)}"
    with target.open(create=True, timeout=timeout, registry=demo.REGISTRY) as store:
        demo.run(store, target.shown, command=command)
    return 0


def _init_command(args: argparse.Namespace, target: Target, timeout: float) -> int:
    if args.print:
        sys.stdout.write(target.schema_sql())
        return 0
    with target.open(create=True, timeout=timeout) as store:
        store.initialize()
    print(f"Schema ready in {target.shown}")
    return 0


def _streams_command(args: argparse.Namespace, target: Target, timeout: float) -> int:
    with target.open(create=False, timeout=timeout) as store:
        streams = store.list_streams(args.limit)
    if args.json:
        _print_json([attrs.asdict(info) for info in streams], indent=2)
        return 0
    rows = [(info.stream_id, str(info.version), str(info.last_position)) for info in streams]
    _print_table(("STREAM", "VERSION", "LAST POSITION"), rows, numeric=(1, 2))
    if not streams:
        print("(no streams)")
    return 0


def _read_command(args: argparse.Namespace, target: Target, timeout: float) -> int:
    options = ReadOptions(
        direction=ReadDirection.BACKWARD if args.backward else ReadDirection.FORWARD,
        from_position=args.from_version,
        limit=args.limit,
    )
    show = _EventPrinter(as_json=args.json, with_stream=False)
    with target.open(create=False, timeout=timeout) as store:
        for event in read_stream_raw(store, args.stream_id, options):
            show(event)
    if not args.json and not show.count:
        print(f"(no events in {args.stream_id})")
    return 0


def _tail_command(args: argparse.Namespace, target: Target, timeout: float) -> int:
    show = _EventPrinter(as_json=args.json, with_stream=True)
    with target.open(create=False, timeout=timeout) as store:
        if args.from_position is not None:
            last = args.from_position
        else:  # like tail: the last few events first
            newest = ReadOptions(direction=ReadDirection.BACKWARD, limit=args.lines)
            recent = list(read_all_raw(store, newest))[::-1]
            for event in recent:
                show(event)
            last = recent[-1].global_position if recent else store.get_global_position()
        while True:  # --follow ends with Ctrl-C or SIGTERM (see `main`)
            for event in read_all_raw(store, ReadOptions(from_position=last)):
                show(event)
                last = event.global_position
            sys.stdout.flush()
            if not args.follow:
                return 0
            time.sleep(args.interval)


def _stats_command(args: argparse.Namespace, target: Target, timeout: float) -> int:
    with target.open(create=False, timeout=timeout) as store:
        stats = store.get_stats()
    if args.json:
        _print_json(
            {
                "event_count": stats.event_count,
                "stream_count": stats.stream_count,
                "head_position": stats.head_position,
                "events_by_type": [
                    {"event_type": name, "count": count}
                    for name, count in stats.events_by_type.items()
                ],
                "events_by_tenant": [
                    {"tenant_id": tenant, "count": count}
                    for tenant, count in stats.events_by_tenant.items()
                ],
            },
            indent=2,
        )
        return 0
    print(f"Store          {target.shown}")
    print(f"Events         {stats.event_count}")
    print(f"Streams        {stats.stream_count}")
    print(f"Head position  {stats.head_position}")
    print()
    by_type = [(name, str(count)) for name, count in stats.events_by_type.items()]
    _print_table(("EVENT TYPE", "COUNT"), by_type or [("(none)", "0")], numeric=(1,))
    print()
    by_tenant = [
        ("(no tenant)" if tenant is None else tenant, str(count))
        for tenant, count in stats.events_by_tenant.items()
    ]
    _print_table(("TENANT", "COUNT"), by_tenant or [("(none)", "0")], numeric=(1,))
    return 0


# -- output --------------------------------------------------------------------------------


def _print_json(data: Any, indent: int | None = None) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=indent))


def _print_table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: Iterable[int] = ()
) -> None:
    right = set(numeric)
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        padded = [
            cell.rjust(width) if index in right else cell.ljust(width)
            for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(padded).rstrip()

    print(line(headers))
    for row in rows:
        print(line(row))


_HEADERS = ("POSITION", "STREAM", "VERSION", "OCCURRED AT (UTC)", "TYPE", "PAYLOAD")


class _EventPrinter:
    """Prints events one at a time: table rows (the header before the first) or JSON lines."""

    def __init__(self, *, as_json: bool, with_stream: bool) -> None:
        self.as_json = as_json
        self.with_stream = with_stream
        self.count = 0
        self.width = shutil.get_terminal_size().columns if sys.stdout.isatty() else 0

    def __call__(self, event: RawEvent) -> None:
        if self.as_json:
            print(json.dumps(event.to_json(), ensure_ascii=False))
        else:
            if not self.count:
                print(self._line(*_HEADERS))
            print(
                self._line(
                    str(event.global_position),
                    event.stream_id,
                    str(event.stream_position),
                    event.occurred_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
                    event.event_type,
                    json.dumps(event.payload, ensure_ascii=False),
                )
            )
        self.count += 1

    def _line(
        self, position: str, stream: str, version: str, at: str, event_type: str, payload: str
    ) -> str:
        cells = [position.rjust(8)]
        if self.with_stream:
            cells.append(stream.ljust(47))
        cells += [version.rjust(7), at.ljust(19), event_type.ljust(20), payload]
        line = "  ".join(cells)
        if self.width and len(line) > self.width:
            line = line[: self.width - 1] + "…"
        return line
