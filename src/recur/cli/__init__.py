"""Command line: thin commands over the services."""

from recur.cli import (  # noqa: F401  (each module registers its commands)
    accounts,
    billing,
    catalogue,
    lists,
    payments,
    server,
    subscriptions,
    usage,
    users,
)
from recur.cli.app import app

__all__ = ["app"]
