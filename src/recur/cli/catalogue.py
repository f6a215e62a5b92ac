"""`recur product edit / add-option / archive-option / unarchive-option / set-prices`:
the catalogue's management, through the same rules as the API and the back office."""

from decimal import Decimal
from typing import Annotated

import typer

from recur.cli.app import app, context, domain_errors
from recur.domain.catalogue import BillingCycle, BillingType
from recur.domain.products import PricingOption, Product
from recur.services import catalogue
from recur.services.meters import parse_meter_lines
from recur.services.validation import MAX_ID, PRICE_PLACES, parse_amount

product_app = typer.Typer(help="The catalogue: products and their pricing options.")
app.add_typer(product_app, name="product")

ProductId = Annotated[int, typer.Argument(min=1, max=MAX_ID, help="Product id.")]
OptionId = Annotated[int, typer.Argument(min=1, max=MAX_ID, help="Pricing option id.")]
ACTOR = "cli"


def _price(raw: str | None, field: str) -> Decimal | None:
    return None if raw is None else parse_amount(raw, field, PRICE_PLACES)


@product_app.command("edit")
@domain_errors
def edit(
    product_id: ProductId,
    name: Annotated[str | None, typer.Option(help="The product's new name.")] = None,
    taxable: Annotated[
        bool | None,
        typer.Option(
            "--taxable/--not-taxable",
            help="Documents issued from now on follow it; issued ones keep their tax.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Change a product's name or taxability."""
    changes = catalogue.ProductChanges(name=name, taxable=taxable)
    product = catalogue.update_product(context().db, product_id, changes, ACTOR)
    typer.echo(f"product {product.id} {product.sku}: {product.name}, {_taxable(product)}")


@product_app.command("add-option")
@domain_errors
def add_option(
    product_id: ProductId,
    code: Annotated[str, typer.Option(help="Unique within the product, e.g. annual.")],
    period: Annotated[BillingCycle, typer.Option("--period", help="The billing period.")],
    billing_type: Annotated[BillingType, typer.Option("--type", help="The billing type.")],
    currency: Annotated[str, typer.Option(help="ISO 4217, e.g. EUR.")],
    unit_price: Annotated[str, typer.Option(help="Per unit and period, e.g. 12.50; 0 for usage.")],
    setup_fee: Annotated[str, typer.Option(help="Once per subscription.")] = "0",
    term_months: Annotated[
        int | None, typer.Option(help="Commitment (default: one period).")
    ] = None,
    auto_renew: Annotated[bool, typer.Option("--auto-renew/--no-auto-renew")] = True,
    billing_day: Annotated[int | None, typer.Option(help="1-28 (default: the account's).")] = None,
    anniversary_billing: Annotated[
        bool, typer.Option(help="Bill on each subscription's start day.")
    ] = False,
    meter: Annotated[
        list[str] | None,
        typer.Option(help='Usage: "code, name, unit, unit price"; repeat for each meter.'),
    ] = None,
    usage_delay_days: Annotated[
        int, typer.Option(help="Usage: days to wait for late records.")
    ] = 0,
) -> None:
    """Add a pricing option to a product, by the rules of a new product's options."""
    spec = catalogue.PricingOptionSpec(
        code=code,
        billing_period=period,
        billing_type=billing_type,
        unit_price=parse_amount(unit_price, "unit_price", PRICE_PLACES),
        currency=currency.upper(),
        setup_fee=parse_amount(setup_fee, "setup_fee", PRICE_PLACES),
        term_months=term_months,
        auto_renew=auto_renew,
        billing_day=billing_day,
        anniversary_billing=anniversary_billing,
        meters=tuple(parse_meter_lines("\n".join(meter or []))),
        usage_delay_days=usage_delay_days,
    )
    product = catalogue.add_pricing_options(context().db, product_id, [spec], ACTOR)
    added = next(o for o in product.pricing_options if o.code == spec.code.strip())
    typer.echo(f"pricing option {added.id} {added.code} added to product {product.id}")


@product_app.command("archive-option")
@domain_errors
def archive_option(product_id: ProductId, option_id: OptionId) -> None:
    """Sell a pricing option no more: subscriptions on it go on renewing."""
    option = catalogue.archive_pricing_option(context().db, product_id, option_id, ACTOR)
    typer.echo(f"{_named(option)} archived: it takes no new subscriptions")


@product_app.command("unarchive-option")
@domain_errors
def unarchive_option(product_id: ProductId, option_id: OptionId) -> None:
    """Sell an archived pricing option again."""
    option = catalogue.unarchive_pricing_option(context().db, product_id, option_id, ACTOR)
    typer.echo(f"{_named(option)} is on sale again")


@product_app.command("set-prices")
@domain_errors
def set_prices(
    product_id: ProductId,
    option_id: OptionId,
    unit_price: Annotated[str | None, typer.Option(help="The new unit price.")] = None,
    setup_fee: Annotated[str | None, typer.Option(help="The new setup fee.")] = None,
) -> None:
    """Correct the prices of an option no subscription uses (refused once one does)."""
    changes = catalogue.PriceChanges(
        unit_price=_price(unit_price, "unit_price"), setup_fee=_price(setup_fee, "setup_fee")
    )
    option = catalogue.change_prices(context().db, product_id, option_id, changes, ACTOR)
    typer.echo(f"{_named(option)}: unit price {option.unit_price}, setup fee {option.setup_fee}")


def _named(option: PricingOption) -> str:
    return f"pricing option {option.id} {option.code} of product {option.product_id}"


def _taxable(product: Product) -> str:
    return "taxable" if product.taxable else "not taxable"
