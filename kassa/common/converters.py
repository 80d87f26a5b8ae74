"""The `id` path converter: a database id in a URL, as an int the view receives."""

from django.urls import register_converter

# ASCII digits only (no "١", "+1" or "0x10"), and few enough that the value fits a bigint.
ID_MAX_DIGITS = 18
ID_PATTERN = f"[0-9]{{1,{ID_MAX_DIGITS}}}"


class IdConverter:
    regex = ID_PATTERN

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(IdConverter, "id")


class SignedTokenConverter:
    """A value the shop signed (django.core.signing's `value:signature`), as a string; anything
    else is no route at all, so a malformed link is a plain 404."""

    regex = r"[A-Za-z0-9_\-]{1,40}:[A-Za-z0-9_\-]{20,100}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(SignedTokenConverter, "signed")


class SecretTokenConverter:
    """A random token the shop made (`secrets.token_urlsafe(32)`: a sign-in link's), as a
    string; anything else is no route at all."""

    regex = r"[A-Za-z0-9_\-]{20,100}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(SecretTokenConverter, "secret")
