"""The input rules of seller and buyer identity (docs/input.md): addresses, country
codes, VAT and tax ids, IBAN and BIC, the tax treatment. Every door reaches them
through the services, so a value refused by one door is refused by all, with the
same code and message."""

import binascii
import re
from base64 import b64decode
from functools import cache

from babel import Locale

from recur.domain.errors import InvalidInput
from recur.domain.identity import NO_ADDRESS, Address, TaxTreatment
from recur.services.validation import NAME_LENGTH, check_choice, check_text

ADDRESS_LINE_LENGTH = 200
MAX_ADDRESS_LINES = 4
POSTCODE_LENGTH = 20
CITY_LENGTH = 100
REGION_LENGTH = 100
TAX_ID_LENGTH = 40
REGISTRATION_LENGTH = 200
BANK_DETAILS_LENGTH = 1000
FOOTER_LENGTH = 1000
REASON_LENGTH = 500
LEGAL_NAME_LENGTH = NAME_LENGTH
LOGO_BYTES = 256 * 1024  # the image; its data: URL is a third longer (base64)
LOGO_URL_LENGTH = LOGO_BYTES * 4 // 3 + 64

# Two-letter codes CLDR lists that are not ISO 3166-1 countries: groupings (EU, EZ, UN)
# and exceptional reservations (Ascension, Canary Islands, …).
_NOT_COUNTRIES = frozenset({"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "TA", "UN"})
# ISO 3166-1's user-assigned codes (XK among them): no country to print.
_USER_ASSIGNED = re.compile(r"AA|Q[M-Z]|X[A-Z]|ZZ")


@cache
def countries() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes, from Babel's copy of CLDR (kept up to date with it)."""
    return frozenset(
        code
        for code in map(str, Locale("en").territories)
        if re.fullmatch(r"[A-Z]{2}", code)
        and code not in _NOT_COUNTRIES
        and not _USER_ASSIGNED.fullmatch(code)
    )


def check_country(value: str, field: str = "country") -> str:
    code = value.strip().upper()
    if code not in countries():
        raise InvalidInput(
            f"invalid_{field}",
            f"{field} must be an ISO 3166-1 alpha-2 country code such as DE or FR",
        )
    return code


def optional_text(value: str | None, field: str, max_length: int) -> str | None:
    """An optional text: blank is absent; else check_text's rules."""
    if value is None or not value.strip():
        return None
    return check_text(value, field, max_length)


def check_address(address: Address, field: str) -> Address:
    """Empty, or at least a line, a city and a country; postcode and region as the
    country uses them."""
    lines = tuple(
        check_text(line, f"{field}.lines", ADDRESS_LINE_LENGTH)
        for line in address.lines
        if line.strip()
    )
    if len(lines) > MAX_ADDRESS_LINES:
        raise InvalidInput(
            f"invalid_{field}", f"{field} may have at most {MAX_ADDRESS_LINES} lines"
        )
    checked = Address(
        lines=lines,
        postcode=optional_text(address.postcode, f"{field}.postcode", POSTCODE_LENGTH),
        city=optional_text(address.city, f"{field}.city", CITY_LENGTH),
        region=optional_text(address.region, f"{field}.region", REGION_LENGTH),
        country=check_country(address.country, f"{field}.country")
        if address.country and address.country.strip()
        else None,
    )
    if checked != NO_ADDRESS and not (checked.lines and checked.city and checked.country):
        raise InvalidInput(
            f"incomplete_{field}", f"{field} needs at least one line, a city and a country"
        )
    return checked


# EU VAT numbers after their prefix (Greece's is EL, Northern Ireland's XI): the formats
# the Commission's VIES publishes. Only the format is checked, never the register.
_EU_VAT = {
    "AT": r"U\d{8}",
    "BE": r"[01]\d{9}",
    "BG": r"\d{9,10}",
    "CY": r"\d{8}[A-Z]",
    "CZ": r"\d{8,10}",
    "DE": r"\d{9}",
    "DK": r"\d{8}",
    "EE": r"\d{9}",
    "EL": r"\d{9}",
    "ES": r"[A-Z0-9]\d{7}[A-Z0-9]",
    "FI": r"\d{8}",
    "FR": r"[A-HJ-NP-Z0-9]{2}\d{9}",
    "HR": r"\d{11}",
    "HU": r"\d{8}",
    "IE": r"\d{7}[A-W][A-I]?|\d[A-Z+*]\d{5}[A-W]",
    "IT": r"\d{11}",
    "LT": r"\d{9}|\d{12}",
    "LU": r"\d{8}",
    "LV": r"\d{11}",
    "MT": r"\d{8}",
    "NL": r"\d{9}B\d{2}",
    "PL": r"\d{10}",
    "PT": r"\d{9}",
    "RO": r"[1-9]\d{1,9}",
    "SE": r"\d{10}01",
    "SI": r"\d{8}",
    "SK": r"\d{10}",
    "XI": r"\d{9}|\d{12}|GD\d{3}|HA\d{3}",
}
_SEPARATORS = re.compile(r"[ .\-]")


def check_tax_id(value: str | None, field: str = "tax_id") -> str | None:
    """A VAT or tax id: an EU VAT number (by its country prefix) must have its
    country's format; others are kept as typed. Stored without spaces, dots or dashes
    for an EU number."""
    text = optional_text(value, field, TAX_ID_LENGTH)
    if text is None:
        return None
    compact = _SEPARATORS.sub("", text).upper()
    pattern = _EU_VAT.get(compact[:2])
    if pattern is None:
        return text
    if not re.fullmatch(pattern, compact[2:]):
        raise InvalidInput(
            f"invalid_{field}",
            f"{field} {compact!r} is not in the format of a {compact[:2]} VAT number",
        )
    return compact


def check_iban(value: str | None, field: str = "iban") -> str | None:
    """An IBAN, its check digits verified (ISO 13616 mod 97); stored without spaces."""
    text = optional_text(value, field, 50)
    if text is None:
        return None
    iban = text.replace(" ", "").upper()
    if (
        not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", iban)
        or iban[:2] not in countries()
        or int("".join(str(int(c, 36)) for c in iban[4:] + iban[:4])) % 97 != 1
    ):
        raise InvalidInput(
            f"invalid_{field}", f"{field} is not a valid IBAN (check the digits and the country)"
        )
    return iban


def check_bic(value: str | None, field: str = "bic") -> str | None:
    text = optional_text(value, field, 11)
    if text is None:
        return None
    bic = text.upper()
    if not re.fullmatch(r"[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?", bic) or bic[4:6] not in (
        countries()
    ):
        raise InvalidInput(f"invalid_{field}", f"{field} must be a BIC of 8 or 11 characters")
    return bic


def check_tax_treatment(treatment: str, reason: str | None, tax_id: str | None) -> str | None:
    """The treatment's own rules; the exemption reason as stored (None unless exempt)."""
    check_choice(treatment, TaxTreatment, "tax_treatment")
    if treatment == TaxTreatment.EXEMPT:
        if reason is None:
            raise InvalidInput(
                "missing_tax_exemption_reason",
                "tax_exemption_reason is required when tax_treatment is exempt",
            )
        return reason
    if reason is not None:
        raise InvalidInput(
            "invalid_tax_exemption_reason",
            "tax_exemption_reason is only for tax_treatment exempt",
        )
    if treatment == TaxTreatment.REVERSE_CHARGE and tax_id is None:
        # Art. 226(4): a reverse-charge invoice names the buyer's VAT number.
        raise InvalidInput(
            "missing_tax_id", "tax_id is required when tax_treatment is reverse_charge"
        )
    return None


# A logo is an image carried in its own data: URL, never a link: rendering a PDF must
# not reach the network, nor read a file of the server a path would name. SVG is not
# taken: it may link to other resources.
_LOGO = re.compile(r"data:image/(png|jpeg|gif);base64,([A-Za-z0-9+/]+={0,2})")
_LOGO_MAGIC = {"png": b"\x89PNG\r\n\x1a\n", "jpeg": b"\xff\xd8\xff", "gif": b"GIF8"}


def check_logo_url(value: str | None, field: str = "logo_url") -> str | None:
    """A logo: a data: URL of a PNG, JPEG or GIF image of at most LOGO_BYTES, whose
    bytes are of the type it names; stored without the line breaks base64 may carry."""
    if value is None or not value.strip():
        return None
    url = "".join(value.split())
    if len(url) > LOGO_URL_LENGTH:
        raise InvalidInput(
            f"invalid_{field}", f"{field} must be an image of at most {LOGO_BYTES // 1024} KB"
        )
    match = _LOGO.fullmatch(url)
    try:
        image = b64decode(match[2], validate=True) if match else b""
    except binascii.Error:
        image = b""
    if match is None or not image.startswith(_LOGO_MAGIC[match[1]]):
        raise InvalidInput(
            f"invalid_{field}",
            f"{field} must be a data: URL of a PNG, JPEG or GIF image "
            "(data:image/png;base64,…); links and file paths are not fetched",
        )
    return url
