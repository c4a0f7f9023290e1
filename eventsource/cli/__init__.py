"""The `eventsource` command line: a thin layer over the library's public names."""

from .main import main

__all__ = ["main"]
