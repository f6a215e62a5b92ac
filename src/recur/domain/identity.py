"""Who sells and who buys: the seller's settings and the parts of an account an
invoice must name (Directive 2006/112/EC, art. 226). Plain values, no I/O."""

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any


class TaxTreatment(StrEnum):
    STANDARD = "standard"  # the account's tax rate applies
    EXEMPT = "exempt"  # no tax, for the reason the account records
    REVERSE_CHARGE = "reverse_charge"  # no tax: the buyer accounts for it (art. 196)


def applied_rate(treatment: str, account_rate: Decimal) -> Decimal:
    """The rate a document applies to its taxable lines under `treatment`: the account's
    under `standard`; none under `exempt` and `reverse_charge` (SPEC §17)."""
    return account_rate if treatment == TaxTreatment.STANDARD else Decimal(0)


@dataclass(frozen=True, slots=True)
class Address:
    """A postal address; every part empty when none was given."""

    lines: tuple[str, ...] = ()
    postcode: str | None = None
    city: str | None = None
    region: str | None = None
    country: str | None = None  # ISO 3166-1 alpha-2


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
    logo_url: str | None = None  # a data: URL (services/identity_rules.check_logo_url)


NO_SELLER = Seller("", NO_ADDRESS, None, None, None, None, None, None)


@dataclass(frozen=True, slots=True)
class Buyer:
    """The account as a document names it (its snapshot when issued)."""

    name: str
    address: Address
    tax_id: str | None
    tax_exemption_reason: str | None  # printed on an exempt document


# Snapshots: a document keeps the seller and the buyer as they were when it was issued,
# as JSON (a later edit of either never changes an issued document). The seller's logo
# is not kept: it is branding, not what art. 226 asks, and a copy per document would
# weigh up to its size in every invoice row; a document shows the current logo.


def seller_record(seller: Seller) -> dict[str, Any]:
    return {
        "legal_name": seller.legal_name,
        "address": address_record(seller.address),
        "tax_id": seller.tax_id,
        "registration": seller.registration,
        "iban": seller.iban,
        "bic": seller.bic,
        "bank_details": seller.bank_details,
        "footer": seller.footer,
    }


def seller_of_record(record: dict[str, Any]) -> Seller:
    return Seller(**{**record, "address": address_of_record(record["address"])})


def buyer_record(buyer: Buyer) -> dict[str, Any]:
    return {
        "name": buyer.name,
        "address": address_record(buyer.address),
        "tax_id": buyer.tax_id,
        "tax_exemption_reason": buyer.tax_exemption_reason,
    }


def buyer_of_record(record: dict[str, Any]) -> Buyer:
    return Buyer(**{**record, "address": address_of_record(record["address"])})


def address_record(address: Address) -> dict[str, Any]:
    return {
        "lines": list(address.lines),
        "postcode": address.postcode,
        "city": address.city,
        "region": address.region,
        "country": address.country,
    }


def address_of_record(record: dict[str, Any]) -> Address:
    return Address(**{**record, "lines": tuple(record["lines"])})
