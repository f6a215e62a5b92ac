"""Reading submitted forms, and showing what is wrong next to the field it concerns."""

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from starlette.datastructures import FormData

from recur.domain.errors import DomainError, InvalidInput, InvalidInputs
from recur.services.validation import MAX_ID, parse_amount, parse_whole_number

# A field's name as the services write it (tax_exemption_reason): the form says it in words.
_FIELD_NAME = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")

# Domain error codes that do not name their field in the usual way.
_FIELD_OF_CODE = {
    "unknown_currency": "currency",
    "currency_mismatch": "pricing_option_id",
    "currency_locked": "currency",
    "billing_schedule_locked": "billing_day",
    "sku_taken": "sku",
    "email_taken": "email",
    "password_too_short": "password",
    "duplicate_pricing_code": "code",
    "pricing_option_not_found": "pricing_option_id",
    "pricing_option_inactive": "pricing_option_id",
    "account_not_found": "account_id",
    "account_closed": "account_id",
    "invalid_payment_terms_days": "payment_terms_days",
    "incompatible_pricing_option": "pricing_option_id",
    "subscription_ended": "effective",
}

# Where the service's message speaks to API clients (field names, null), the form says it in words.
_WORDS_OF_CODE = {
    "invalid_billing_day": "Enter a day from 1 to 28, or leave it empty to bill on each start day.",
    "invalid_email": "Enter an e-mail address, such as billing@example.com.",
    "invalid_currency": "Enter a three-letter ISO 4217 code, such as EUR.",
    "unknown_currency": "This is not a currency in use (ISO 4217); try EUR, USD or GBP.",
    "invalid_anniversary_billing": "Billing on each start day cannot be combined with a billing "
    "day: leave the billing day empty, or untick this.",
    "nothing_to_change": "Change the quantity or the plan first: both are as they are today.",
}


@dataclass
class Form:
    """A submitted form: its raw values (to show again) and the errors found so far."""

    data: FormData
    errors: dict[str, str] = field(default_factory=dict)

    def text(self, name: str) -> str:
        value = self.data.get(name)
        return value.strip() if isinstance(value, str) else ""

    def values(self, name: str) -> list[str]:
        return [v for v in self.data.getlist(name) if isinstance(v, str)]

    def flag(self, name: str) -> bool:
        return self.text(name) in ("1", "on", "true", "yes")

    def integer(self, name: str, optional: bool = False) -> int | None:
        """A whole number, read by the parser every door uses (services.validation)."""
        if optional and not self.text(name):
            return None
        try:
            return parse_whole_number(self.text(name), name)
        except InvalidInput as error:
            self.errors[name] = words(error, name)
            return None

    def id(self, name: str) -> int | None:
        """The id of a choice; one beyond the keys' range is no choice the form offered."""
        number = self.integer(name)
        if number is not None and not 1 <= number <= MAX_ID:
            self.errors[name] = "Choose one of the options."
            return None
        return number

    def decimal(self, name: str, places: int, default: Decimal | None = None) -> Decimal | None:
        """An amount, read by the parser every door uses: "12,50" is never 1250."""
        if default is not None and not self.text(name):
            return default
        try:
            return parse_amount(self.text(name), name, places)
        except InvalidInput as error:
            self.errors[name] = words(error, name)
            return None

    def day(self, name: str) -> date | None:
        raw = self.text(name)
        try:
            return date.fromisoformat(raw)
        except ValueError:
            self.errors[name] = "Enter a date (YYYY-MM-DD)." if raw else "This field is required."
            return None

    def required(self, name: str) -> str:
        value = self.text(name)
        if not value:
            self.errors[name] = "This field is required."
        return value

    def add_domain_error(self, error: DomainError, fields: set[str]) -> None:
        """Put a service's refusal next to its field, or above the form if it names none;
        each of several problems next to its own (a field's first error stays)."""
        for problem in error.problems if isinstance(error, InvalidInputs) else [error]:
            name = field_of(problem.code)
            self.errors.setdefault(name if name in fields else "_form", words(problem, name))

    @property
    def ok(self) -> bool:
        return not self.errors


def field_of(code: str) -> str:
    if code in _FIELD_OF_CODE:
        return _FIELD_OF_CODE[code]
    for prefix in ("invalid_", "missing_"):
        if code.startswith(prefix):
            return code.removeprefix(prefix)
    return "_form"


def words(error: DomainError, name: str) -> str:
    """A refusal as the form says it next to its field: "Unit price may have at most…"."""
    if error.code in _WORDS_OF_CODE:
        return _WORDS_OF_CODE[error.code]
    return sentence(_FIELD_NAME.sub(lambda found: found[0].replace("_", " "), error.message))


def sentence(message: str) -> str:
    """A service message as a sentence: capitalised, with a full stop."""
    text = message[:1].upper() + message[1:]
    return text if text.endswith((".", "!", "?")) else f"{text}."
