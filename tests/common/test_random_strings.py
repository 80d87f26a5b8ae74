"""random_string: the alphabet and length asked for, every character as likely as any other."""

import string
from collections import Counter
from collections.abc import Iterator

import pytest
from django.contrib.sessions.backends.base import VALID_KEY_CHARS

from kassa.common import random_strings
from kassa.common.random_strings import random_string


def test_the_length_and_alphabet_asked_for() -> None:
    for length in (0, 1, 32, 200):
        drawn = random_string(length, VALID_KEY_CHARS)
        assert len(drawn) == length
        assert set(drawn) <= set(VALID_KEY_CHARS)


def test_bytes_past_the_last_whole_alphabet_are_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    # 36 characters: 252 = 7 × 36, so 252..255 would make the first four characters likelier.
    reads: Iterator[bytes] = iter([bytes([252, 253, 254, 255, 0, 37]), bytes([1, 35, 71, 250])])
    monkeypatch.setattr(random_strings.secrets, "token_bytes", lambda n: next(reads))
    # 0 and 37 from the first read; 1 and 35 from a second (the alphabet ends with the digits).
    assert random_string(4, VALID_KEY_CHARS) == "ab" + "b9"


def test_each_character_about_as_often_as_any_other() -> None:
    alphabet = string.ascii_letters + string.digits  # 62: a quarter of the bytes' range is cut
    counts = Counter(random_string(62 * 2000, alphabet))
    assert set(counts) == set(alphabet)
    # 2,000 expected each, a standard deviation of 44: a character 8 deviations away is a
    # bias (the modulo without the cut makes the first 8 characters 25% likelier), not chance.
    assert max(abs(n - 2000) for n in counts.values()) < 350


def test_an_alphabet_a_byte_cannot_index_is_refused() -> None:
    with pytest.raises(ValueError, match="between 1 and 256"):
        random_string(8, "")
    with pytest.raises(ValueError, match="between 1 and 256"):
        random_string(8, "x" * 257)
