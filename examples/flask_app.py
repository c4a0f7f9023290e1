"""A Flask app on the synchronous PostgreSQL store.

    EVENTSOURCE_URL=postgresql://localhost/bank flask --app examples/flask_app.py run

Flask finds `create_app` and calls it without arguments: the app then opens its own store
from `EVENTSOURCE_URL` (creating the schema if needed) and closes it when the process exits.
Tests pass a store of their own instead.

POST /accounts/<id> {"owner": "ada"} opens an account; GET /accounts/<id> shows its balance
and version; POST /accounts/<id>/deposits {"amount": "10.00", "expected_version": 1} appends
a deposit. A stale `expected_version` answers 409 with the current version, so the client
reloads.
"""

from __future__ import annotations

import atexit
import os
from decimal import Decimal, InvalidOperation
from uuid import UUID

from bank import AccountOpened, Deposited, balance
from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue

from eventsource import (
    ExpectedVersion,
    OptimisticLockError,
    SyncEventStore,
    SyncPostgreSQLEventStore,
)

ACCOUNT = "Account"


def create_app(store: SyncEventStore | None = None) -> Flask:
    """The app, on `store`; without one, on a store opened from `EVENTSOURCE_URL`."""
    if store is None:
        store = open_store()
    app = Flask(__name__)
    app.extensions["eventsource"] = store

    @app.post("/accounts/<uuid:account_id>")
    def open_account(account_id: UUID) -> ResponseReturnValue:
        event = AccountOpened(aggregate_id=account_id, owner=request.json["owner"])
        try:
            result = store.append_events(account_id, ACCOUNT, [event], ExpectedVersion.NO_STREAM)
        except OptimisticLockError:
            return jsonify(error="account exists"), 409
        return jsonify(version=result.new_version), 201

    @app.get("/accounts/<uuid:account_id>")
    def show_account(account_id: UUID) -> ResponseReturnValue:
        stream = store.get_events(account_id, ACCOUNT)
        if stream.is_empty:
            return jsonify(error="no such account"), 404
        return jsonify(balance=str(balance(stream.events)), version=stream.version)

    @app.post("/accounts/<uuid:account_id>/deposits")
    def deposit(account_id: UUID) -> ResponseReturnValue:
        try:
            amount = Decimal(request.json["amount"])
            expected = int(request.json["expected_version"])
        except (KeyError, TypeError, ValueError, InvalidOperation):
            return jsonify(error="amount and expected_version are required"), 400
        event = Deposited(aggregate_id=account_id, amount=amount)
        try:
            result = store.append_events(account_id, ACCOUNT, [event], expected)
        except OptimisticLockError as conflict:
            return jsonify(error="stale version", version=conflict.actual_version), 409
        return jsonify(version=result.new_version), 201

    return app


def open_store() -> SyncEventStore:
    """The store at `EVENTSOURCE_URL`, its schema created, closed when the process exits."""
    url = os.environ.get("EVENTSOURCE_URL")
    if not url:
        raise RuntimeError(
            "set EVENTSOURCE_URL to a PostgreSQL URL, e.g. "
            "EVENTSOURCE_URL=postgresql://localhost/bank flask --app examples/flask_app.py run"
        )
    store = SyncPostgreSQLEventStore.from_url(url)
    atexit.register(store.close)
    store.initialize()
    return store
