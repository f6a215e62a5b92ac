"""The global search of the top bar and of `GET /search`: accounts by name or e-mail,
invoices (and credit notes) by number, a subscription by its id; case-insensitive
on both databases, `%` and `_` taken literally."""

from dataclasses import dataclass

from recur.db.repositories import accounts, invoices, subscriptions
from recur.db.session import Database
from recur.domain.accounts import Account
from recur.domain.errors import InvalidInput
from recur.domain.issued import Invoice, InvoiceFilter
from recur.domain.pages import Page
from recur.domain.subscriptions import Subscription
from recur.services.validation import id_named_by, searched

HITS = 10  # of each kind: the search is a jump to a record, the lists show the rest
MAX_SEARCH = 200


@dataclass(frozen=True)
class SearchResults:
    text: str  # as searched: trimmed
    accounts: Page[Account]  # the first HITS, with the total
    invoices: Page[Invoice]  # the first HITS (without items), with the total
    subscriptions: list[Subscription]  # the one the text names by id (`42` or `#42`)


def check_search(text: str) -> str:
    """The text as searched; an empty or overlong one is refused in words."""
    found = searched(text)
    if not found:
        raise InvalidInput(
            "invalid_search",
            "type a name, an e-mail, an invoice number or a subscription id to search for",
        )
    if len(found) > MAX_SEARCH:
        raise InvalidInput("invalid_search", f"a search is at most {MAX_SEARCH} characters")
    return found


def search(db: Database, text: str) -> SearchResults:
    query = check_search(text)
    subscription_id = id_named_by(query.removeprefix("#"))
    with db.read() as session:
        by_name = accounts.list_accounts(session, query, HITS, None, None)
        by_number = invoices.page(session, InvoiceFilter(number=query), HITS, None, False)
        sub = None if subscription_id is None else subscriptions.get(session, subscription_id)
    return SearchResults(query, by_name, by_number, [] if sub is None else [sub])
