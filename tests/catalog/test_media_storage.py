"""Where images live: local disk by default, an S3-compatible bucket when MEDIA_STORAGE_URL or
AWS_* say so. Parsing and the storage's addresses only: nothing here reaches a network."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from storages.backends.s3 import S3Storage

from config.media import CACHE_FOREVER, LOCAL_BACKEND, S3_BACKEND, media_storage


def test_without_a_bucket_images_live_on_local_disk() -> None:
    found = media_storage({})
    assert found.storage == {"BACKEND": LOCAL_BACKEND}
    assert found.origins == []


def test_a_media_storage_url_names_the_bucket_and_its_options() -> None:
    found = media_storage(
        {
            "MEDIA_STORAGE_URL": "s3://shop-images/kassa/media?region=eu-central-1"
            "&endpoint=https://minio.internal:9000&domain=img.example.com"
        }
    )
    assert found.storage["BACKEND"] == S3_BACKEND
    options = found.storage["OPTIONS"]
    assert options["bucket_name"] == "shop-images"
    assert options["location"] == "kassa/media"
    assert options["region_name"] == "eu-central-1"
    assert options["endpoint_url"] == "https://minio.internal:9000"
    assert options["custom_domain"] == "img.example.com"
    assert options["addressing_style"] == "path"
    assert options["querystring_auth"] is False  # one address for every visitor's page
    assert options["object_parameters"] == {"CacheControl": CACHE_FOREVER}
    assert found.origins == ["https://img.example.com"]


def test_the_usual_aws_settings_name_a_bucket_too() -> None:
    found = media_storage(
        {
            "AWS_STORAGE_BUCKET_NAME": "shop-images",
            "AWS_S3_REGION_NAME": "eu-west-1",
            "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE",
            "AWS_SECRET_ACCESS_KEY": "secret-example",
        }
    )
    options = found.storage["OPTIONS"]
    assert (options["bucket_name"], options["region_name"]) == ("shop-images", "eu-west-1")
    assert found.origins == [
        "https://shop-images.s3.amazonaws.com",
        "https://shop-images.s3.eu-west-1.amazonaws.com",
    ]
    # boto3 reads the credentials from the environment itself: they never enter the settings.
    assert "secret-example" not in repr(found)


def test_the_url_wins_over_aws_settings() -> None:
    found = media_storage(
        {"MEDIA_STORAGE_URL": "s3://from-url", "AWS_STORAGE_BUCKET_NAME": "from-aws"}
    )
    assert found.storage["OPTIONS"]["bucket_name"] == "from-url"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("https://shop-images/", "must start with s3://"),
        ("s3://AKIA:secret@shop-images/", "must not carry credentials"),
        ("s3:///media", "names no bucket"),
        ("s3://shop-images?acl=public-read", "unknown parameter acl"),
    ],
)
def test_a_wrong_media_storage_url_is_a_clear_error(url: str, says: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=says):
        media_storage({"MEDIA_STORAGE_URL": url})


@pytest.mark.parametrize(
    "environ",
    [
        {"MEDIA_STORAGE_URL": "s3://shop-images/media?region=eu-west-1"},
        {"MEDIA_STORAGE_URL": "s3://shop-images?endpoint=http://127.0.0.1:9000"},
        {"MEDIA_STORAGE_URL": "s3://shop-images?domain=img.example.com"},
    ],
    ids=["aws", "s3-compatible", "cdn"],
)
def test_the_bucket_serves_images_from_the_origin_the_csp_allows(
    environ: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The storage django-storages builds from these options gives addresses on that origin
    (addresses are computed locally; the storage connects only to read or write)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-example")
    found = media_storage(environ)
    storage = S3Storage(**found.storage["OPTIONS"])
    url = storage.url("items/0123456789abcdef0123-card.jpg")
    assert any(url.startswith(origin + "/") for origin in found.origins), (url, found.origins)
    assert url.endswith("items/0123456789abcdef0123-card.jpg")
    assert "Signature" not in url
    assert "X-Amz" not in url


def test_settings_use_the_bucket_and_let_pages_show_its_images() -> None:
    """config/settings.py read with a bucket configured, in a process of its own."""
    code = (
        "import json, config.settings as s; "
        "print(json.dumps([s.STORAGES['default']['BACKEND'], "
        "s.CONTENT_SECURITY_POLICY['DIRECTIVES']['img-src']]))"
    )
    env = {
        **os.environ,
        "DJANGO_SECRET_KEY": "test-only",
        "MEDIA_STORAGE_URL": "s3://shop-images?domain=img.example.com",
    }
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=True,
    )
    backend, img_src = json.loads(out.stdout.strip().splitlines()[-1])
    assert backend == S3_BACKEND
    assert "https://img.example.com" in img_src
    assert "'self'" in img_src
