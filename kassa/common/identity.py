"""The shop's identity: its name, logo, contact, footer, time zone and languages.

Each comes from the environment (SHOP_NAME, SHOP_LOGO_URL, SHOP_CONTACT_EMAIL, ..., TIME_ZONE,
SHOP_LANGUAGES) and is overridden by the admin's "Shop settings" wherever the owner filled a
field in. Read at most every CATALOG_PAGE_REFRESH_SECONDS per process (one row by key).
"""

import hashlib
import time
from dataclasses import dataclass, field
from email.utils import formataddr, parseaddr
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import DatabaseError
from django.db.models.signals import post_delete, post_save

from kassa.common.models import ShopSettings

SETTINGS_ID = 1
# The name of a shop whose owner has not named it.
DEFAULT_NAME = "Kassa"


@dataclass(frozen=True)
class ShopIdentity:
    name: str
    logo_url: str = ""
    contact_email: str = ""
    contact_address: str = ""
    footer_text: str = ""
    time_zone: str = "UTC"
    languages: tuple[str, ...] = ()
    version: str = field(default="", compare=False)

    def language_choices(self) -> list[tuple[str, str]]:
        """(code, name) of the languages offered, as settings.LANGUAGES names them."""
        return [(code, name) for code, name in settings.LANGUAGES if code in self.languages]

    @property
    def from_email(self) -> str:
        """DEFAULT_FROM_EMAIL's address under the shop's name (`Name <address>`), once the
        shop has a name of its own; until then DEFAULT_FROM_EMAIL as it is."""
        _, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
        if not address or self.name == DEFAULT_NAME:
            return str(settings.DEFAULT_FROM_EMAIL)
        return formataddr((self.name, address))


def _valid_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _from(row: ShopSettings | None) -> ShopIdentity:
    known = [code for code, _ in settings.LANGUAGES]
    chosen = [code for code in (row.languages.split(",") if row else []) if code in known]
    offered = chosen or [code for code in settings.SHOP_LANGUAGES if code in known] or known
    zone = (row.time_zone if row else "") or settings.TIME_ZONE
    values = {
        "name": (row.name if row else "") or settings.SHOP_NAME,
        "logo_url": (row.logo.url if row and row.logo else "") or settings.SHOP_LOGO_URL,
        "contact_email": (row.contact_email if row else "") or settings.SHOP_CONTACT_EMAIL,
        "contact_address": (row.contact_address if row else "") or settings.SHOP_CONTACT_ADDRESS,
        "footer_text": (row.footer_text if row else "") or settings.SHOP_FOOTER_TEXT,
        "time_zone": zone if _valid_zone(zone) else settings.TIME_ZONE,
        "languages": tuple(offered),
    }
    version = hashlib.sha256(repr(sorted(values.items())).encode()).hexdigest()[:12]
    return ShopIdentity(**values, version=version)  # type: ignore[arg-type]


# (identity, when it was read): replaced whole, so threads never see half an update.
_seen: tuple[ShopIdentity | None, float] = (None, float("-inf"))


def identity() -> ShopIdentity:
    """The shop's identity as read at most CATALOG_PAGE_REFRESH_SECONDS ago."""
    global _seen
    shop, read_at = _seen
    now = time.monotonic()
    if shop is None or now - read_at >= settings.CATALOG_PAGE_REFRESH_SECONDS:
        shop = read()
        _seen = (shop, now)
    return shop


def read() -> ShopIdentity:
    """The identity as committed now."""
    try:
        row = ShopSettings.objects.filter(pk=SETTINGS_ID).first()
    except DatabaseError:  # not migrated yet (a management command before `migrate`)
        row = None
    return _from(row)


def forget(**kwargs: object) -> None:
    """This process reads the identity again on its next use (another's within a second)."""
    global _seen
    _seen = (None, float("-inf"))


post_save.connect(forget, sender=ShopSettings, dispatch_uid="kassa.identity.saved")
post_delete.connect(forget, sender=ShopSettings, dispatch_uid="kassa.identity.deleted")
