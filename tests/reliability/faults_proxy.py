"""A TCP proxy in front of PostgreSQL that can cut a connection at a chosen moment.

It forwards bytes both ways and, once armed, drops the next connection that shows activity:

- `cut_request()`: the next bytes a client sends are not forwarded; the connection is closed.
  The server never sees the statement: the call fails and nothing was done.
- `cut_response()`: the next DataRow the server sends is not forwarded; the connection is
  closed. In autocommit, PostgreSQL commits a statement at its Sync message, before it flushes
  the rows (they wait in its output buffer), so the statement has committed and the client
  never learns it: the outcome of the call is unknown to the caller.

The client must not negotiate SSL or GSS encryption (`sslmode=disable`, `gssencmode=disable`),
so every server message is a framed protocol message (type byte, 4-byte length).
"""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Literal

from psycopg.conninfo import conninfo_to_dict, make_conninfo

Cut = Literal["request", "response"]
_DATA_ROW = ord("D")
_CHUNK = 65536


class CuttingProxy:
    """Listens on 127.0.0.1 (a free port) and forwards to `host:port`."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)  # so the acceptor notices `close()` promptly
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._armed: Cut | None = None
        self._sockets: set[socket.socket] = set()
        self._closed = False
        self.cuts = 0
        self._acceptor = threading.Thread(target=self._accept, name="proxy-accept", daemon=True)
        self._acceptor.start()

    def route(self, url: str) -> str:
        """`url` (a URL or conninfo of the target server) through this proxy."""
        params = conninfo_to_dict(url)
        params.update(host="127.0.0.1", port=self.port, sslmode="disable", gssencmode="disable")
        return make_conninfo("", **params)

    def cut_request(self) -> None:
        with self._lock:
            self._armed = "request"

    def cut_response(self) -> None:
        with self._lock:
            self._armed = "response"

    @property
    def armed(self) -> bool:
        with self._lock:
            return self._armed is not None

    def close(self) -> None:
        with self._lock:
            self._closed = True
            sockets = list(self._sockets)
        self._listener.close()
        for sock in sockets:
            _close(sock)
        self._acceptor.join(timeout=5)

    def __enter__(self) -> CuttingProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals ---------------------------------------------------------------------------

    def _accept(self) -> None:
        while True:
            if self._is_closed():
                return
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            try:
                server = socket.create_connection(self.target, timeout=10)
            except OSError:
                _close(client)
                continue
            server.settimeout(None)
            with self._lock:
                if not self._closed:
                    self._sockets.update((client, server))
            if self._is_closed():
                _close(client)
                _close(server)
                return
            pair = (client, server)
            threading.Thread(target=self._pump_requests, args=pair, daemon=True).start()
            threading.Thread(target=self._pump_responses, args=pair, daemon=True).start()

    def _is_closed(self) -> bool:
        with self._lock:
            return self._closed

    def _take(self, cut: Cut) -> bool:
        """Whether this connection must be cut now (and disarm: one cut per arming)."""
        with self._lock:
            if self._armed != cut:
                return False
            self._armed = None
            self.cuts += 1
            return True

    def _pump_requests(self, client: socket.socket, server: socket.socket) -> None:
        try:
            while data := client.recv(_CHUNK):
                if self._take("request"):
                    break
                server.sendall(data)
        except OSError:
            pass
        finally:
            self._drop(client, server)

    def _pump_responses(self, client: socket.socket, server: socket.socket) -> None:
        pending = b""  # bytes of an incomplete message header, carried to the next chunk
        skip = 0  # bytes of the current message's body still to come
        try:
            while data := server.recv(_CHUNK):
                offset = 0
                buffer = pending + data
                pending = b""
                cut = False
                while offset < len(buffer):
                    if skip:
                        step = min(skip, len(buffer) - offset)
                        skip -= step
                        offset += step
                        continue
                    if len(buffer) - offset < 5:
                        pending = buffer[offset:]
                        break
                    kind = buffer[offset]
                    length = int.from_bytes(buffer[offset + 1 : offset + 5], "big")
                    if kind == _DATA_ROW and self._take("response"):
                        cut = True
                        break
                    offset += 5
                    skip = length - 4
                if cut:
                    break
                client.sendall(buffer[: len(buffer) - len(pending)])
        except OSError:
            pass
        finally:
            self._drop(client, server)

    def _drop(self, *sockets: socket.socket) -> None:
        with self._lock:
            self._sockets.difference_update(sockets)
        for sock in sockets:
            _close(sock)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
