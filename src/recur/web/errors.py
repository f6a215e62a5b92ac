"""What a page answers instead of itself: a redirect to sign in, 403 or 404 pages."""

from collections.abc import Callable
from typing import ParamSpec, TypeVar

from recur.domain.errors import DomainError, InvalidInput, NotFound

P = ParamSpec("P")
T = TypeVar("T")


class SignInRequired(Exception):
    """No valid session: the page answers with a redirect to the sign-in form."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


class Forbidden(Exception):
    """The request is refused (403): missing CSRF token or a role that may not write."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PageNotFound(Exception):
    """The page's subject does not exist (404)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def found(lookup: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Call a service lookup; its NotFound becomes this door's 404 page."""
    try:
        return lookup(*args, **kwargs)
    except NotFound as error:
        raise PageNotFound(error.message) from error


def refusal_status(error: DomainError) -> int:
    """The status of a form or dialog shown again with a service's refusal."""
    return 422 if isinstance(error, InvalidInput) else 409
