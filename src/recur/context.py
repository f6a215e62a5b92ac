"""What every door needs: settings, the database and the one clock."""

from dataclasses import dataclass

from recur.clock import Clock, clock_from_settings
from recur.db.loop_reads import LoopReads
from recur.db.session import Database
from recur.services.tokens import TokenCache
from recur.settings import Settings, get_settings


@dataclass
class AppContext:
    settings: Settings
    db: Database
    clock: Clock
    loop_reads: LoopReads  # the API's reads on the event loop (opened on first use)
    tokens: TokenCache  # live API tokens, while revocations are heard (services/tokens.py)


def context_from_settings(settings: Settings | None = None) -> AppContext:
    settings = settings or get_settings()
    db = Database(settings.database_url)
    return AppContext(
        settings=settings,
        db=db,
        clock=clock_from_settings(settings.today, settings.test_clock),
        loop_reads=LoopReads(db),
        tokens=TokenCache(),
    )
