"""Random strings drawn in one read of the system's randomness.

Django's `get_random_string` draws each character with a call of its own to `secrets.choice`:
for a session key (32 characters, made on a new visitor's Buy click) or a CSRF mask (made on
every shared page) that cost more CPU than the rest of what the request did with the string.
Here the bytes come in one read, and those at or above the largest multiple of the alphabet's
size are dropped, so that every character stays as likely as any other.
"""

import secrets


def random_string(length: int, alphabet: str) -> str:
    """`length` characters, each drawn uniformly from `alphabet` (at most 256 characters)."""
    size = len(alphabet)
    if not 0 < size <= 256:
        raise ValueError("The alphabet must have between 1 and 256 characters.")
    fair_below = 256 - 256 % size
    drawn: list[int] = []
    while len(drawn) < length:
        drawn += [byte for byte in secrets.token_bytes(length + 8) if byte < fair_below]
    return "".join(alphabet[byte % size] for byte in drawn[:length])
