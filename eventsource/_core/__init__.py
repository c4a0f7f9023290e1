"""The core every store runs on, whatever its backend.

- `operations`: each store operation written once, as a generator of queries;
- `driver`: runs those generators, synchronously or with asyncio;
- `stores`: the public methods of every store, once for sync and once for async;
- `rules`, `validation`: the contract's checks and errors, the same on every backend;
- `records`, `codec`: events in their storage form, and their exact JSON;
- `paging`: which rows a read page selects, planned once for every dialect;
- `translate`: every judgement about a driver error (psycopg, sqlite3);
- `tracing`: OpenTelemetry spans.

Nothing here is public: the package's public names are re-exported by `eventsource`.
"""
