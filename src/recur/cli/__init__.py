"""Command line: thin commands over the services."""

from recur.cli import billing, lists, payments, server, subscriptions, usage, users  # noqa: F401  (each module registers its commands)
from recur.cli.app import app

__all__ = ["app"]
