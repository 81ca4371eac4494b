import logging

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from .middleware import RedisError
from .replicas import replica_status

logger = logging.getLogger(__name__)


@never_cache
@require_safe
def healthz(request):
    """Liveness and readiness for the container healthcheck and load balancers.

    Public on purpose, so it says nothing beyond up or down, and, where they
    are configured, each read replica's lag and whether Redis answers; the kind
    of failure goes to the log, never into the response. A replica down is not
    an error (its reads go to the primary); the primary or Redis down is.
    """
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        # The class only: driver messages can carry connection details.
        logger.warning("healthz: database unavailable: %s", type(error).__name__)
        return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
    answer = {"status": "ok", "database": "ok"}
    if replicas := replica_status():
        answer["replicas"] = replicas
    if settings.REDIS_URL:
        try:
            cache.get("healthz")
            answer["cache"] = "ok"
        except RedisError as error:
            logger.warning("healthz: cache unavailable: %s", type(error).__name__)
            answer.update(status="error", cache="unavailable")
    return JsonResponse(answer, status=200 if answer["status"] == "ok" else 503)
