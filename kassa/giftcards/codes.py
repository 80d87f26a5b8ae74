"""Gift card codes: made, recognised by their shape, and reduced to what is stored.

A code reads GIFT-XXXX-XXXX-XXXX-XXXX-XXXX: 20 characters of Crockford's base 32 (no I, L, O, U,
which are read as 1, 1, 0 and V), 100 random bits. Typed codes are forgiving: case, spaces,
dashes and the look-alike letters do not matter.
"""

import hashlib
import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PREFIX = "GIFT"
LENGTH = 20
_LOOKALIKES = str.maketrans({"I": "1", "L": "1", "O": "0", "U": "V"})
_SHAPE = re.compile(rf"^{PREFIX}[{ALPHABET}]{{{LENGTH}}}$")


def new_code() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    groups = [body[i : i + 4] for i in range(0, LENGTH, 4)]
    return "-".join([PREFIX, *groups])


def normalised(typed: str) -> str:
    """The code as stored and compared: upper case, no separators, look-alikes read as digits
    (only after the GIFT prefix, whose I must stay an I)."""
    squeezed = re.sub(r"[\s\-_]", "", typed.upper())
    if not squeezed.startswith(PREFIX):
        return squeezed
    return PREFIX + squeezed[len(PREFIX) :].translate(_LOOKALIKES)


def looks_like_gift_card(typed: str) -> bool:
    """Whether `typed` has a gift card code's shape (a discount code never does: the code box
    tries a card only for these)."""
    return bool(_SHAPE.match(normalised(typed)))


def code_hash(typed: str) -> str:
    return hashlib.sha256(normalised(typed).encode()).hexdigest()


def last4(code: str) -> str:
    return normalised(code)[-4:]
