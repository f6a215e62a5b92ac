"""The audit trail: every state change records who did it, and from which door.

The rule, made structural as Zulip's `actions` do (docs/architecture.md):

- a service that changes state is decorated with `@action`;
- it records its event with `record` (or `event_row` in a batch of final writes),
  in the transaction that makes the change;
- an action whose transactions wrote anything commits exactly one event: a second
  one is refused before its transaction commits, and an action that wrote rows but
  no event fails when it returns (`AuditRuleBroken`, a programming error);
- an event recorded outside an action is refused, so no service can skip the
  decorator; dry runs (previews) may record, they are rolled back.

The door is a context variable set once by each entry point (`entered_by`): the
API's and the back office's requests (app.py), the CLI's callback and the workers.
Code that calls the services directly (a script, a test) counts as the CLI.
"""

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import Engine, event, insert
from sqlalchemy.orm import Session

from recur.db.models import AuditEvent
from recur.domain.audit import Door

P = ParamSpec("P")
T = TypeVar("T")

_DOOR: ContextVar[Door] = ContextVar("recur_door", default=Door.CLI)
_ACTION: ContextVar["_Tally | None"] = ContextVar("recur_action", default=None)
_PENDING = "recur.audit.pending"  # session.info: events recorded, not yet committed
DRY_RUN = "recur.audit.dry_run"  # session.info: the session is always rolled back

# Every state-changing service, by "module.name": the walk test's list (tests/integration).
ACTIONS: dict[str, Callable[..., Any]] = {}


class AuditRuleBroken(AssertionError):
    """A service broke the rule "every state change writes exactly one event"."""


@dataclass
class _Tally:
    name: str
    committed: int = 0
    wrote: bool = False  # a committed transaction of the action changed rows
    writing: bool = False  # the transaction in hand changed rows


def current_door() -> Door:
    return _DOOR.get()


@contextmanager
def entered_by(door: Door) -> Iterator[None]:
    """Within this block (and the threads' contexts copied from it), state changes
    come in through `door`."""
    token = _DOOR.set(door)
    try:
        yield
    finally:
        _DOOR.reset(token)


def action(service: Callable[P, T]) -> Callable[P, T]:
    """Mark `service` as a state change: it must commit exactly one audit event if it
    writes anything (none if it found nothing to change). An action called by another
    is part of the outer one."""

    @functools.wraps(service)
    def checked(*args: P.args, **kwargs: P.kwargs) -> T:
        if _ACTION.get() is not None:
            return service(*args, **kwargs)
        tally = _Tally(f"{service.__module__}.{service.__qualname__}")
        token = _ACTION.set(tally)
        try:
            result = service(*args, **kwargs)
        finally:
            _ACTION.reset(token)
        if tally.wrote and tally.committed == 0:
            raise AuditRuleBroken(f"{tally.name} changed state without an audit event")
        return result

    ACTIONS[f"{service.__module__}.{service.__qualname__}"] = checked
    return checked


def record(
    session: Session,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: int | None,
    **detail: object,
) -> None:
    session.connection().execute(
        _INSERT, event_row(session, actor, action, subject_type, subject_id, **detail)
    )


def event_row(
    session: Session,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: int | None,
    **detail: object,
) -> dict[str, object]:
    """An audit event's row, for `record` or a batch of writes, counted against the
    action that records it."""
    _count(session, action)
    return {
        "occurred_at": datetime.now(UTC),
        "actor": actor,
        "door": current_door().value,
        "action": action,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "detail": detail,
    }


def _count(session: Session, action: str) -> None:
    if session.info.get(DRY_RUN):
        return
    tally = _ACTION.get()
    if tally is None:
        raise AuditRuleBroken(f"{action!r} recorded outside an action: decorate its service")
    pending = session.info.get(_PENDING, 0) + 1
    if tally.committed + pending > 1:
        raise AuditRuleBroken(f"{tally.name} recorded a second event, {action!r}")
    session.info[_PENDING] = pending


def began() -> None:
    """A unit of work begins: what a rolled-back one wrote does not count."""
    tally = _ACTION.get()
    if tally is not None:
        tally.writing = False


def committed(session: Session) -> None:
    """The unit of work committed: its events and writes count for the action it ran in."""
    tally = _ACTION.get()
    if tally is not None:
        tally.committed += session.info.pop(_PENDING, 0)
        tally.wrote = tally.wrote or tally.writing


def note_write() -> None:
    """A statement changed rows (or will, with the COMMIT: db/final_writes.py)."""
    tally = _ACTION.get()
    if tally is not None:
        tally.writing = True


def watch_writes(engine: Engine) -> None:
    """Tell the running action when one of its statements changes rows."""

    @event.listens_for(engine, "before_cursor_execute")
    def _on_execute(*args: Any) -> None:
        statement: str = args[2]
        if _ACTION.get() is not None and statement.lstrip()[:6].upper() in _WRITES:
            note_write()


_WRITES = {"INSERT", "UPDATE", "DELETE"}

# Built once: the statement's cache key is computed once too.
_INSERT = insert(AuditEvent)
