"""The identity rules on their own: countries from Babel's data, EU VAT formats by
prefix, IBAN check digits, addresses complete or empty, the tax treatment's needs."""

import pytest

from recur.domain.errors import InvalidInput
from recur.domain.identity import NO_ADDRESS, Address
from recur.services.identity_rules import (
    check_address,
    check_bic,
    check_country,
    check_iban,
    check_tax_id,
    check_tax_treatment,
)


def test_countries_are_iso_codes_not_groupings_or_user_assigned() -> None:
    assert check_country(" fr ") == "FR"
    assert check_country("QA") == "QA"  # Qatar, not a user-assigned Q code
    for code in ("EU", "UN", "XK", "ZZ", "AC", "UK", "FRA", ""):
        with pytest.raises(InvalidInput, match="ISO 3166-1"):
            check_country(code)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("DE 123 456 789", "DE123456789"),
        ("el-123456789", "EL123456789"),
        ("NL123456789B01", "NL123456789B01"),
        ("ATU12345678", "ATU12345678"),
        ("CHE-123.456.789 MWST", "CHE-123.456.789 MWST"),  # not an EU prefix: as typed
        ("12-3456789", "12-3456789"),
    ],
)
def test_tax_ids(typed: str, stored: str) -> None:
    assert check_tax_id(typed) == stored


@pytest.mark.parametrize("typed", ["DE12345678", "AT12345678", "NL123456789", "FR1234", "IT1"])
def test_eu_vat_numbers_out_of_format_are_refused(typed: str) -> None:
    with pytest.raises(InvalidInput, match="VAT number"):
        check_tax_id(typed)


def test_iban_check_digits() -> None:
    assert check_iban("gb82 west 1234 5698 7654 32") == "GB82WEST12345698765432"
    assert check_iban("") is None
    for bad in ("GB83WEST12345698765432", "XX82WEST12345698765432", "GB82"):
        with pytest.raises(InvalidInput, match="not a valid IBAN"):
            check_iban(bad)
    assert check_bic("deutdeff500") == "DEUTDEFF500"
    with pytest.raises(InvalidInput):
        check_bic("DEUTXXFF")


def test_an_address_is_complete_or_empty() -> None:
    assert check_address(Address(("", " "), " ", None, "", ""), "address") == NO_ADDRESS
    with pytest.raises(InvalidInput) as refused:
        check_address(Address(("1 Main St",), None, "Springfield", None, None), "address")
    assert refused.value.code == "incomplete_address"


def test_the_tax_treatment_needs_its_reason_or_tax_id() -> None:
    assert check_tax_treatment("exempt", "art. 132", None) == "art. 132"
    assert check_tax_treatment("reverse_charge", None, "DE123456789") is None
    for treatment, reason, tax_id, code in [
        ("exempt", None, None, "missing_tax_exemption_reason"),
        ("standard", "art. 132", None, "invalid_tax_exemption_reason"),
        ("reverse_charge", None, None, "missing_tax_id"),
        ("zero", None, None, "invalid_tax_treatment"),
    ]:
        with pytest.raises(InvalidInput) as refused:
            check_tax_treatment(treatment, reason, tax_id)
        assert refused.value.code == code
