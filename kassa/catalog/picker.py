"""A product page's variant picker, as data: for each option, its values, and which variant
choosing one leads to from the variant chosen now (the same values for the other options), or,
where that combination does not exist, the first variant with the value."""

from dataclasses import dataclass

from kassa.catalog.models import Item, Product


@dataclass(frozen=True)
class Choice:
    value: str
    selected: bool
    variant: Item  # where choosing the value leads
    exists: bool  # with the other options as chosen now
    sold_out: bool  # that combination exists and none is left


@dataclass(frozen=True)
class Option:
    name: str
    index: int  # 0, 1 or 2: which of the item's option fields holds its value
    choices: list[Choice]


def _values(item: Item) -> tuple[str, str, str]:
    return (item.option1, item.option2, item.option3)


def picker(*, product: Product, variants: list[Item], chosen: Item) -> list[Option]:
    """The picker for `variants` (the product's variants on sale, in order) with `chosen`
    among them. Works on the list it is given: no queries."""
    by_values = {_values(v): v for v in variants}
    options = []
    for index, name in enumerate(product.option_names):
        seen: list[str] = []
        for variant in variants:
            value = _values(variant)[index]
            if value not in seen:
                seen.append(value)
        choices = []
        for value in seen:
            wanted = list(_values(chosen))
            wanted[index] = value
            exact = by_values.get((wanted[0], wanted[1], wanted[2]))
            target = exact or _first_with(variants, index, value)
            choices.append(
                Choice(
                    value=value,
                    selected=_values(chosen)[index] == value,
                    variant=target,
                    exists=exact is not None,
                    sold_out=exact is not None and exact.sold_out,
                )
            )
        options.append(Option(name=name, index=index, choices=choices))
    return options


def _first_with(variants: list[Item], index: int, value: str) -> Item:
    """The first variant with `value` for option `index`, preferring one that is not sold out."""
    having = [v for v in variants if _values(v)[index] == value]
    return next((v for v in having if not v.sold_out), having[0])
