"""What every door needs: settings, the database and the one clock."""

from dataclasses import dataclass

from recur.clock import Clock, clock_from_settings
from recur.db.session import Database
from recur.settings import Settings, get_settings


@dataclass
class AppContext:
    settings: Settings
    db: Database
    clock: Clock


def context_from_settings(settings: Settings | None = None) -> AppContext:
    settings = settings or get_settings()
    return AppContext(
        settings=settings,
        db=Database(settings.database_url),
        clock=clock_from_settings(settings.today, settings.test_clock),
    )
