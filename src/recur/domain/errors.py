"""Domain errors: a stable code for machines and a message for people.

Each door maps them once: the API to an HTTP status, the CLI to an exit status.
"""


class DomainError(Exception):
    """Base of every error the services raise on purpose."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class NotFound(DomainError):
    """A referenced object does not exist (HTTP 404)."""


class Conflict(DomainError):
    """The request is well formed but the current state refuses it (HTTP 409)."""


class InvalidInput(DomainError):
    """The request itself is wrong (HTTP 422)."""


class InvalidInputs(InvalidInput):
    """Several things wrong with one request, found together so that a form can show them
    all at once; its code is the first one's, its message all of theirs."""

    def __init__(self, problems: list[InvalidInput]) -> None:
        super().__init__(problems[0].code, "; ".join(p.message for p in problems))
        self.problems = problems


def refuse_all(problems: list[InvalidInput]) -> None:
    """Raise the problems found, if any: one as itself, several together."""
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise InvalidInputs(problems)


class TooManyAttempts(DomainError):
    """Too many failed attempts: try again after `retry_after` seconds (HTTP 429)."""

    def __init__(self, code: str, message: str, retry_after: int) -> None:
        super().__init__(code, message)
        self.retry_after = retry_after
