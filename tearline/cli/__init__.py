"""The command line: one module per command group, shared options in one place."""

from ._app import app, main

__all__ = ["app", "main"]
