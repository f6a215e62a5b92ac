"""Typed settings, read once from the environment (RECUR_*)."""

import os
import secrets
import time
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

from platformdirs import user_data_dir
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _data_dir() -> Path:
    """Where the embedded database and the secret key live: the owner's only (0700)."""
    folder = Path(user_data_dir("recur"))
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)  # made by an older version with the umask's mode
    return folder


def _default_database_url() -> str:
    return f"sqlite:///{_data_dir() / 'recur.sqlite3'}"


def _default_secret_key() -> str:
    """A random key made once and kept beside the embedded database: no installation
    ever signs its session cookies with a key that is public in the source."""
    path = _data_dir() / "secret_key"
    try:  # O_EXCL: of several processes starting at once, one writes and all read it
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(descriptor, "w") as key_file:
            key_file.write(secrets.token_urlsafe(48))
    for _ in range(100):  # the writer may still be between create and write
        if key := path.read_text().strip():
            return key
        time.sleep(0.01)
    raise RuntimeError(f"{path} is empty: delete it, or set RECUR_SECRET_KEY")


MIN_API_TOKEN_LENGTH = 32


class Settings(BaseSettings):
    # hide_input_in_errors: a refused setting may be a secret; never echo it to the log.
    model_config = SettingsConfigDict(env_prefix="RECUR_", hide_input_in_errors=True)

    database_url: str = Field(default_factory=_default_database_url)
    today: date | None = None
    test_clock: bool = False
    api_token: str | None = None
    scheduler: str = "on"
    # At start, compute every currency's dashboard figures in the background
    # (services/metrics.py), so that they are ready before anyone looks. The tests
    # turn it off: each test app would otherwise set a child process computing.
    warm_figures: bool = True
    billing_interval: int = 3600  # seconds between scheduled runs
    secret_key: str = Field(default_factory=_default_secret_key)
    seller_name: str = "Recur Cloud Services"
    # The session cookie is Secure (and named __Host-…) whenever a request came over
    # HTTPS; set this where TLS ends at a proxy that does not say so (X-Forwarded-Proto).
    cookie_secure: bool = False
    # Seconds the first throttled sign-in waits; each further failure doubles it.
    sign_in_first_wait: float = Field(default=1.0, gt=0)
    # Sync requests (pages, PDFs, API writes) a server process runs at once, in its
    # thread pool. The default suits one process serving everything (`make run`): a
    # slow page or PDF does not hold up the others. `recur serve --workers N` (N > 1)
    # defaults to one per process: Python runs one thread at a time, so on CPU-bound
    # API requests more threads only hand the GIL to each other, and with one they
    # wait their turn in arrival order (docs/performance-api.md).
    server_threads: int = Field(default=8, ge=1)
    # The largest request body read (413 beyond). Raise it for large API batches.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    # The same for usage records in bulk (http_guards.UPLOAD_PATHS): an API batch of
    # 10,000 records, a back-office file of 100,000 rows and more.
    max_upload_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)

    # The SMTP server until an admin saves its settings (docs/delivery.md).
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    mail_from: str = "billing@localhost"
    # Seconds between the delivery worker's looks at the outbox when it is empty.
    delivery_interval: float = Field(default=5.0, gt=0)

    @field_validator("api_token")
    @classmethod
    def _long_enough(cls, token: str | None) -> str | None:
        """An admin credential must not be guessable: at least 128 bits as hex."""
        if token and len(token) < MIN_API_TOKEN_LENGTH:
            raise ValueError(
                f"RECUR_API_TOKEN must be at least {MIN_API_TOKEN_LENGTH} characters"
                f" (it has {len(token)}); make one with `openssl rand -hex 16`"
            )
        return token


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
