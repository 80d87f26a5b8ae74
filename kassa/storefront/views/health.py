"""/healthz: whether this replica can serve, for the load balancer and the container's check."""

from django.core.cache import caches
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from kassa.common.cache import FailSoftRedisCache


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the app answers and the database takes a query, 503 otherwise. With Redis
    (REDIS_URL) it says whether Redis answers, but a replica without it still serves (the
    throttles let everyone through, Stripe's pace is kept per process), so that is no reason
    to take the replica out. It names no hosts, versions or errors: anyone who can reach the
    port can read it."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    answer = {"status": "ok", "database": "ok"}
    shared = caches["default"]
    if isinstance(shared, FailSoftRedisCache):
        answer["redis"] = "ok" if shared.reachable() else "unreachable"
    return JsonResponse(answer)
