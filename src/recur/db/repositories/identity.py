"""Seller and buyer identity: the seller's settings row, and addresses as the seller's
and the accounts' columns hold them."""

from collections.abc import Mapping
from typing import Any, Protocol

from sqlalchemy.orm import Session

from recur.db.models import SellerSettings as SellerRow
from recur.domain.identity import Address, Seller


class _HasAddress(Protocol):
    address_lines: list[str] | None
    postcode: str | None
    city: str | None
    region: str | None
    country: str | None


def address_of(row: _HasAddress) -> Address:
    return Address(tuple(row.address_lines or ()), row.postcode, row.city, row.region, row.country)


def address_columns(address: Address) -> dict[str, Any]:
    """An address as its columns: lines NULL when there are none."""
    return {
        "address_lines": list(address.lines) or None,
        "postcode": address.postcode,
        "city": address.city,
        "region": address.region,
        "country": address.country,
    }


def with_address_columns(values: Mapping[str, Any], field: str) -> dict[str, Any]:
    """Column values, the address under `field` (if any) spread over its columns."""
    columns = {key: value for key, value in values.items() if key != field}
    if field in values:
        columns |= address_columns(values[field])
    return columns


def seller(session: Session) -> Seller | None:
    """The saved seller settings, None until an admin first saves them."""
    row = session.get(SellerRow, 1)
    if row is None:
        return None
    return Seller(
        legal_name=row.legal_name,
        address=address_of(row),
        tax_id=row.tax_id,
        registration=row.registration,
        iban=row.iban,
        bic=row.bic,
        bank_details=row.bank_details,
        footer=row.footer,
        logo_url=row.logo_url,
    )


def save_seller(session: Session, settings: Seller) -> None:
    row = session.get(SellerRow, 1, with_for_update=True) or SellerRow(id=1)
    row.legal_name = settings.legal_name
    for key, value in address_columns(settings.address).items():
        setattr(row, key, value)
    row.tax_id, row.registration = settings.tax_id, settings.registration
    row.iban, row.bic, row.bank_details = settings.iban, settings.bic, settings.bank_details
    row.footer, row.logo_url = settings.footer, settings.logo_url
    session.add(row)
    session.flush()
