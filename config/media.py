"""Where uploaded files (item images) live: MEDIA_ROOT on local disk, or an S3-compatible bucket.

A bucket is named by MEDIA_STORAGE_URL, `s3://<bucket>[/<prefix>]` with optional query
parameters `region`, `endpoint` (an S3-compatible service's address, e.g. MinIO's or R2's) and
`domain` (a CDN or custom domain serving the bucket), or by the usual AWS_STORAGE_BUCKET_NAME,
AWS_S3_REGION_NAME, AWS_S3_ENDPOINT_URL and AWS_S3_CUSTOM_DOMAIN; the URL wins where both say.
Credentials are never part of these: boto3 reads AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or an
instance role) itself, so no secret passes through the settings.

Pure functions of the environment, so the parsing is tested without a network.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.core.exceptions import ImproperlyConfigured

LOCAL_BACKEND = "django.core.files.storage.FileSystemStorage"
S3_BACKEND = "storages.backends.s3.S3Storage"
# Stored names are content hashes (kassa.common.media): a bucket's file never changes either.
CACHE_FOREVER = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class MediaStorage:
    storage: dict[str, Any]  # STORAGES["default"]
    # Where images are fetched from when it is not the shop itself (img-src in the CSP).
    origins: list[str]


def media_storage(environ: Mapping[str, str]) -> MediaStorage:
    url = environ.get("MEDIA_STORAGE_URL", "").strip()
    bucket = environ.get("AWS_STORAGE_BUCKET_NAME", "").strip()
    if not url and not bucket:
        return MediaStorage(storage={"BACKEND": LOCAL_BACKEND}, origins=[])
    options: dict[str, Any] = {
        "bucket_name": bucket,
        "location": "",
        "region_name": environ.get("AWS_S3_REGION_NAME", "").strip() or None,
        "endpoint_url": environ.get("AWS_S3_ENDPOINT_URL", "").strip() or None,
        "custom_domain": environ.get("AWS_S3_CUSTOM_DOMAIN", "").strip() or None,
    }
    if url:
        options.update(_from_url(url))
    if not options["bucket_name"]:
        raise ImproperlyConfigured("MEDIA_STORAGE_URL names no bucket: use s3://<bucket>/...")
    options.update(
        # Plain addresses, the same for every visitor: the pages sharing one copy need that,
        # and a signed address would expire inside a page kept for a day by a browser.
        querystring_auth=False,
        # Objects are readable through the bucket's own policy (or the CDN), never per object.
        default_acl=None,
        # Same name, same bytes: keep what is there rather than upload it again.
        file_overwrite=False,
        object_parameters={"CacheControl": CACHE_FOREVER},
    )
    if options["endpoint_url"]:
        # S3-compatible services (MinIO, Ceph, ...) reliably answer path-style addresses.
        options["addressing_style"] = "path"
    return MediaStorage(
        storage={"BACKEND": S3_BACKEND, "OPTIONS": options}, origins=_origins(options)
    )


def _from_url(url: str) -> dict[str, Any]:
    parts = urlsplit(url)
    if parts.scheme != "s3":
        raise ImproperlyConfigured(
            f"MEDIA_STORAGE_URL must start with s3:// (got {parts.scheme or 'no'} scheme)"
        )
    if parts.username or parts.password:
        raise ImproperlyConfigured(
            "MEDIA_STORAGE_URL must not carry credentials: set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY instead"
        )
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    unknown = sorted(set(query) - {"region", "endpoint", "domain"})
    if unknown:
        raise ImproperlyConfigured(f"MEDIA_STORAGE_URL: unknown parameter {', '.join(unknown)}")
    found: dict[str, Any] = {"bucket_name": parts.hostname or "", "location": parts.path.strip("/")}
    for key, option in (
        ("region", "region_name"),
        ("endpoint", "endpoint_url"),
        ("domain", "custom_domain"),
    ):
        if query.get(key):
            found[option] = query[key]
    return found


def _origins(options: Mapping[str, Any]) -> list[str]:
    if options["custom_domain"]:
        return [f"https://{options['custom_domain']}"]
    if options["endpoint_url"]:
        endpoint = urlsplit(options["endpoint_url"])
        return [f"{endpoint.scheme}://{endpoint.netloc}"]
    # AWS itself: boto3 names the bucket's global host, or its region's.
    bucket, region = options["bucket_name"], options["region_name"]
    hosts = ["s3.amazonaws.com", *([f"s3.{region}.amazonaws.com"] if region else [])]
    return [f"https://{bucket}.{host}" for host in hosts]
