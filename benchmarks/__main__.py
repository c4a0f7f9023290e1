"""`python -m benchmarks`: see `benchmarks/run.py` and `benchmarks/README.md`."""

from __future__ import annotations

from .run import main

raise SystemExit(main())
