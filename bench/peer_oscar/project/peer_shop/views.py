"""The yardstick, as in Kassa's bench: what this server answers with no work of the shop's."""

from django.http import HttpRequest, HttpResponse


def trivial(request: HttpRequest) -> HttpResponse:
    """No database, no template: gunicorn's, Django's and the middleware's own cost."""
    return HttpResponse("ok", content_type="text/plain")
