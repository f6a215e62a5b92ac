"""Typed settings, read once from the environment (RECUR_*)."""

from datetime import date
from functools import lru_cache
from pathlib import Path

from platformdirs import user_data_dir
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_database_url() -> str:
    folder = Path(user_data_dir("recur"))
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'recur.sqlite3'}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RECUR_")

    database_url: str = Field(default_factory=_default_database_url)
    today: date | None = None
    test_clock: bool = False
    api_token: str | None = None
    scheduler: str = "on"
    billing_interval: int = 3600  # seconds between scheduled runs
    secret_key: str = "dev-insecure-change-me"
    seller_name: str = "Recur Cloud Services"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
