"""Who sells and who buys: the seller's settings and the parts of an account an
invoice must name (Directive 2006/112/EC, art. 226). Plain values, no I/O."""

from dataclasses import dataclass
from enum import StrEnum


class TaxTreatment(StrEnum):
    STANDARD = "standard"  # the account's tax rate applies
    EXEMPT = "exempt"  # no tax, for the reason the account records
    REVERSE_CHARGE = "reverse_charge"  # no tax: the buyer accounts for it (art. 196)


@dataclass(frozen=True, slots=True)
class Address:
    """A postal address; every part empty when none was given."""

    lines: tuple[str, ...] = ()
    postcode: str | None = None
    city: str | None = None
    region: str | None = None
    country: str | None = None  # ISO 3166-1 alpha-2

    @property
    def is_empty(self) -> bool:
        return self == NO_ADDRESS


NO_ADDRESS = Address()


@dataclass(frozen=True, slots=True)
class Seller:
    """The installation's own identity, printed on every document it issues."""

    legal_name: str
    address: Address
    tax_id: str | None
    registration: str | None
    iban: str | None
    bic: str | None
    bank_details: str | None  # free text, for accounts an IBAN does not name
    footer: str | None


NO_SELLER = Seller("", NO_ADDRESS, None, None, None, None, None, None)
