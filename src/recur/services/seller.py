"""The seller's settings: the identity every issued document names (SPEC §17)."""

from dataclasses import asdict

from sqlalchemy.orm import Session

from recur.db.audit import action, record
from recur.db.repositories import identity as stored
from recur.db.session import Database
from recur.domain.identity import NO_SELLER, Seller
from recur.services.identity_rules import (
    BANK_DETAILS_LENGTH,
    FOOTER_LENGTH,
    LEGAL_NAME_LENGTH,
    REGISTRATION_LENGTH,
    check_address,
    check_bic,
    check_iban,
    check_logo_url,
    check_tax_id,
    optional_text,
)
from recur.services.validation import check_text


def seller(db: Database) -> Seller:
    """The saved settings; before an admin first saves them, every part empty."""
    with db.read() as session:
        return stored.seller(session) or NO_SELLER


@action
def update_seller(db: Database, spec: Seller, actor: str) -> Seller:
    """Replace the seller's settings; every field is checked first, so a refused edit
    changes nothing."""
    checked = Seller(
        legal_name=check_text(spec.legal_name, "legal_name", LEGAL_NAME_LENGTH),
        address=check_address(spec.address, "address"),
        tax_id=check_tax_id(spec.tax_id),
        registration=optional_text(spec.registration, "registration", REGISTRATION_LENGTH),
        iban=check_iban(spec.iban),
        bic=check_bic(spec.bic),
        bank_details=optional_text(spec.bank_details, "bank_details", BANK_DETAILS_LENGTH),
        footer=optional_text(spec.footer, "footer", FOOTER_LENGTH),
        logo_url=check_logo_url(spec.logo_url),
    )

    def work(session: Session) -> Seller:
        before = stored.seller(session) or NO_SELLER
        stored.save_seller(session, checked)
        changed = sorted(
            key for key, value in asdict(checked).items() if asdict(before)[key] != value
        )
        record(session, actor, "seller.updated", "seller", 1, changes=changed)
        return checked

    return db.run(work)
