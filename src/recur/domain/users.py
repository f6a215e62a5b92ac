"""Who may use Recur: back-office users and their sessions, API tokens, and the
failed sign-ins that throttle them, as the services hand them to the doors.

No record carries a password hash or a token's secret: the sign-in check reads
the hash through its own repository function (db/repositories/users.py).
"""

from dataclasses import dataclass
from datetime import datetime

from recur.domain.roles import Role


@dataclass(frozen=True, slots=True)
class User:
    """A back-office user."""

    id: int
    email: str
    role: Role
    disabled: bool = False

    @property
    def actor(self) -> str:
        """Who the audit trail names for what this user does (a token is "token:<name>")."""
        return f"user:{self.email}"


@dataclass(frozen=True, slots=True)
class UserSession:
    """A live back-office session, with its user."""

    id: int
    user: User
    last_seen_at: datetime  # aware (UTC)


@dataclass(frozen=True, slots=True)
class ApiToken:
    """An API token as the lists show it."""

    id: int
    name: str
    role: Role
    created_at: datetime  # aware (UTC), as are the others
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class Principal:
    """Who an API request acts for: a live token."""

    token_id: int
    name: str
    role: Role

    @property
    def actor(self) -> str:
        return f"token:{self.name}"


@dataclass(frozen=True, slots=True)
class FailedSignIns:
    """The failed sign-ins counted for one key ("account:<e-mail>" or "client:<address>")."""

    key: str
    failures: int
    last_failure_at: datetime  # aware (UTC)
    blocked_until: datetime | None
