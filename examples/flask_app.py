"""A Flask app on the synchronous PostgreSQL store.

    EVENTSOURCE_URL=postgresql://localhost/bank flask --app examples/flask_app.py run

POST /accounts/<id>/deposits {"amount": "10.00", "expected_version": 1} appends a deposit;
a stale `expected_version` answers 409 with the current version, so the client reloads.
"""

from __future__ import annotations

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


def create_app(store: SyncEventStore) -> Flask:
    app = Flask(__name__)

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


def main() -> Flask:
    """The app for `flask --app examples/flask_app.py run`."""
    store = SyncPostgreSQLEventStore.from_url(os.environ["EVENTSOURCE_URL"])
    store.initialize()
    return create_app(store)
