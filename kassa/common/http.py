"""Small HTTP helpers shared by the apps' views."""

from django.http import Http404, HttpRequest, JsonResponse


def json_error(message: str, *, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def parse_id(raw: str) -> int:
    """A path id as an int; anything else is a 404, like an id that does not exist."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise Http404("No such id.")
    return int(raw)


def wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")
