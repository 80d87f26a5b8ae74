"""Uploaded files (MEDIA_ROOT) served by the app itself, as WhiteNoise serves static files.

Only where media live on local disk (the default, and compose's named volume); with a bucket
(MEDIA_STORAGE_URL) browsers fetch images from the bucket and this view is not routed. Files the
shop writes are named after their content's hash (kassa.common.media), so such a file never changes
under its address and browsers and proxies may keep it for a year without asking again.
"""

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponseBase
from django.views import static
from django.views.decorators.http import require_safe

from kassa.common.media import is_content_addressed

FOREVER = "public, max-age=31536000, immutable"
# A file not named by the shop (put there by hand) may change: browsers check it within a day.
A_DAY = "public, max-age=86400"


@require_safe
def serve(request: HttpRequest, path: str) -> HttpResponseBase:
    """A file under MEDIA_ROOT, or 404. Django's static.serve resolves the path inside the root
    (safe_join: `..`, absolute paths and symlinks out of it are a 404), refuses directory
    listings and answers If-Modified-Since with 304. A name the file system refuses (too long,
    a NUL) names no file either."""
    try:
        response = static.serve(request, path, document_root=str(settings.MEDIA_ROOT))
    except (OSError, ValueError) as exc:
        raise Http404("No such file.") from exc
    response["Cache-Control"] = FOREVER if is_content_addressed(path) else A_DAY
    return response
