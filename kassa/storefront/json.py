"""Page JSON: the API's shape of a resource (kassa.api.schemas), answered by a page to
`Accept: application/json`, serialised as the API serialises it."""

from django.http import JsonResponse
from ninja import Schema


def shape(schema: Schema, *, status: int = 200) -> JsonResponse:
    # Django's JSON encoder, as Django Ninja's renderer uses: the same dates, the same decimals.
    return JsonResponse(schema.model_dump(), status=status)
