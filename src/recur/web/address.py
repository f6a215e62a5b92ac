"""An address as the back office's forms show and read it: one field per part, the
lines in a text area, one line each; the field names are the ones the services'
refusals name (`billing_address.country`), so an error lands beside its field."""

from typing import Any

from recur.domain.identity import Address
from recur.web.forms import Form

PARTS = ("lines", "postcode", "city", "region", "country")


def address_fields(prefix: str) -> set[str]:
    return {f"{prefix}.{part}" for part in PARTS}


def address_values(address: Address, prefix: str) -> dict[str, Any]:
    return {
        f"{prefix}.lines": "\n".join(address.lines),
        f"{prefix}.postcode": address.postcode or "",
        f"{prefix}.city": address.city or "",
        f"{prefix}.region": address.region or "",
        f"{prefix}.country": address.country or "",
    }


def read_address(form: Form, prefix: str) -> Address:
    """As typed: the services check it (services/identity_rules.py)."""
    return Address(
        lines=tuple(form.text(f"{prefix}.lines").splitlines()),
        postcode=form.text(f"{prefix}.postcode"),
        city=form.text(f"{prefix}.city"),
        region=form.text(f"{prefix}.region"),
        country=form.text(f"{prefix}.country"),
    )
