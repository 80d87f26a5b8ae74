"""Handles (the words of a product's or a collection's address) made from names."""

_RU = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        "a b v g d e e zh z i y k l m n o p r s t u f kh ts ch sh shch  y  e yu ya".split(" "),
        strict=True,
    )
)


def unidecode_ru(text: str) -> str:
    """Cyrillic letters as Latin ones, so a Russian name makes a readable handle."""
    return "".join(_RU.get(ch, _RU.get(ch.lower(), ch)) for ch in text)
