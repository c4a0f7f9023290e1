"""An asyncio program on the async PostgreSQL store: concurrent deposits, then a report.

EVENTSOURCE_URL=postgresql://localhost/bank python examples/asyncio_app.py
"""

from __future__ import annotations

import asyncio
import os
from decimal import Decimal
from uuid import UUID, uuid4

from bank import AccountOpened, Deposited, balance

from eventsource import EventStore, ExpectedVersion, PostgreSQLEventStore


async def deposit_many(store: EventStore, account_id: UUID, amounts: list[Decimal]) -> None:
    """Deposit concurrently: with ExpectedVersion.ANY no writer ever sees a conflict."""
    await asyncio.gather(
        *(
            store.append_events(
                account_id,
                "Account",
                [Deposited(aggregate_id=account_id, amount=amount)],
                ExpectedVersion.ANY,
            )
            for amount in amounts
        )
    )


async def run(store: EventStore) -> Decimal:
    account_id = uuid4()
    opened = AccountOpened(aggregate_id=account_id, owner="ada")
    await store.append_events(account_id, "Account", [opened], ExpectedVersion.NO_STREAM)
    await deposit_many(store, account_id, [Decimal("10.00")] * 20)
    stream = await store.get_events(account_id, "Account")
    print(f"account {account_id}: {stream.version} events, balance {balance(stream.events)}")
    return balance(stream.events)


async def main() -> None:
    async with PostgreSQLEventStore.from_url(os.environ["EVENTSOURCE_URL"]) as store:
        await store.initialize()
        await run(store)


if __name__ == "__main__":
    asyncio.run(main())
