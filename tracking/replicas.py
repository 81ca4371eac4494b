"""Read replicas: which database a request reads from.

settings.DATABASE_REPLICA_URLS adds streaming replicas of the primary as
replica_0, replica_1, …. ReplicaMiddleware picks one per request and
ReplicaRouter sends that request's reads there, except:

- writes, and every read inside a transaction, go to the primary (Django
  routes writes with db_for_write; a transaction is open on the primary);
- requests that write (POST, PUT, PATCH, DELETE) read from the primary;
- read-your-writes: for TRACKING_READ_YOUR_WRITES_SECONDS after a request
  that wrote, the same browser (a signed cookie) and the same user (a key in
  the shared cache, for token clients) read from the primary, whatever the lag;
- logins, sessions and tokens are always read from the primary, so that a
  token or session just made works at once on every node;
- failover: when a replica cannot be reached, the request is answered again
  from the primary and that replica is left out for TRACKING_REPLICA_RETRY_SECONDS.

The nearest library, django-multidb-router (its PinningReplicaRouter), pins a
browser to the primary by a cookie after a POST. It does not pin token clients
(scripts send no cookies) by their user, does not fall back to the primary
when a replica is down, and cannot check a replica's replay position against
the ETag's version, which is most of what this module does; hence this module.

ETags: the data version comes from the primary only (a replica's sequence is
logged up to 32 values ahead and cannot see the primary's writers in flight),
together with the primary's WAL position. Before a body named by that version
is built on a replica, catch_up() checks the replica has replayed up to that
position, else the body is built on the primary. So a body is never older
than the version its ETag claims, whatever a replica's lag, and both nodes
give the same ETag for the same data.
"""

import contextvars
import logging
import random
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, connections
from django.http import HttpResponse

from . import db
from .middleware import RedisError

logger = logging.getLogger(__name__)

# Read from the primary always: a token or session just created must work on the next request.
PRIMARY_APPS = {"sessions", "authtoken", "auth", "axes", "contenttypes"}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
WROTE_COOKIE = "tracker_wrote"
WROTE_SALT = "tracking.replicas.wrote"

# How long a body waits for its replica to replay up to the version it will be named by.
CATCH_UP_SECONDS = 0.05

# Per process: a replica that failed is left out until this time (time.monotonic()).
_down_until = {}


@dataclass
class ReadRoute:
    """Where this request reads: a replica alias, or None for the primary."""

    request: object
    alias: str | None
    # The primary's WAL position when the data version was read (etag_version()).
    position: str | None = None
    user_checked: bool = False
    used: set = field(default_factory=set)


_route = contextvars.ContextVar("tracking_read_route", default=None)


def replica_aliases():
    return [alias for alias in settings.DATABASES if alias.startswith("replica_")]


def available_replicas():
    now = time.monotonic()
    return [alias for alias in replica_aliases() if _down_until.get(alias, 0) <= now]


def mark_down(alias):
    _down_until[alias] = time.monotonic() + settings.TRACKING_REPLICA_RETRY_SECONDS
    try:
        connections[alias].close()
    except Exception:  # noqa: BLE001 - a broken connection may fail to close; it is dropped either way.
        pass


def _wrote_recently(request):
    try:
        request.get_signed_cookie(WROTE_COOKIE, salt=WROTE_SALT, max_age=settings.TRACKING_READ_YOUR_WRITES_SECONDS)
    except (KeyError, signing.BadSignature):
        return False
    return True


def _user_key(user_id):
    return f"wrote:user:{user_id}"


class ReplicaRouter:
    """Reads to the request's replica (ReadRoute), everything else to the primary."""

    def db_for_read(self, model, **hints):
        route = _route.get()
        if route is None or route.alias is None or model._meta.app_label in PRIMARY_APPS:
            return "default"
        if connections["default"].in_atomic_block:
            return "default"
        if not route.user_checked:
            # The user is known by now (DRF authenticated them, or the session
            # is read from the primary): did they write a moment ago?
            route.user_checked = True
            user = getattr(route.request, "user", None)
            if user is not None and user.is_authenticated and cache.get(_user_key(user.pk)):
                route.alias = None
                return "default"
        route.used.add(route.alias)
        return route.alias

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        # Replicas hold the same rows as the primary.
        return True

    def allow_migrate(self, db, app_label, **hints):
        return db == "default"


class ReplicaFailed(HttpResponse):
    """process_exception's answer when the replica failed: ReplicaMiddleware answers again from the primary."""


class ReplicaMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not replica_aliases():
            return self.get_response(request)
        choices = available_replicas()
        reads_replica = request.method in SAFE_METHODS and choices and not _wrote_recently(request)
        route = ReadRoute(request, random.choice(choices) if reads_replica else None)
        token = _route.set(route)
        try:
            response = self.get_response(request)
            if isinstance(response, ReplicaFailed):
                _route.set(ReadRoute(request, None))
                response = self.get_response(request)
        finally:
            _route.reset(token)
        if request.method not in SAFE_METHODS and response.status_code < 400:
            self.remember_write(request, response)
        return response

    def process_exception(self, request, exception):
        """A replica that cannot be reached or broke off: answer the (safe) request again from the primary."""
        route = _route.get()
        if route is None or not route.used or not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        failed = [alias for alias in route.used if not _usable(alias)]
        if not failed:
            # The primary failed: DatabaseUnavailableMiddleware answers 503.
            return None
        for alias in failed:
            mark_down(alias)
        return ReplicaFailed(status=503)

    def remember_write(self, request, response):
        seconds = settings.TRACKING_READ_YOUR_WRITES_SECONDS
        response.set_signed_cookie(
            WROTE_COOKIE, "1", salt=WROTE_SALT, max_age=seconds, httponly=True, samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
        )
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            try:
                cache.set(_user_key(user.pk), 1, seconds)
            except RedisError:
                # The write is done; only this user's next reads may lag, through another browser.
                logger.warning("read-your-writes: cache unavailable")


def _usable(alias):
    connection = connections[alias]
    return connection.connection is not None and connection.is_usable()


def etag_version():
    """tracking.db.etag_version() (epoch, data version), always read on the primary; remembers where the
    primary's WAL was, for catch_up()."""
    route = _route.get()
    if route is None or route.alias is None:
        return db.etag_version()
    epoch, version, route.position = db.etag_version_and_position()
    return epoch, version


def catch_up():
    """Before a body named by etag_version() is built: a replica behind that version leaves it to the primary.

    Replay only moves forward, so a replica that has replayed up to where the
    primary's WAL was when the version was read holds every change the
    version counts (and perhaps later ones, which is never a wrong 304).
    Streaming usually trails by milliseconds, and the primary's WAL moves with
    every write anywhere, so the replica is given CATCH_UP_SECONDS to get there.
    """
    route = _route.get()
    if route is None or route.alias is None or route.position is None:
        return
    if connections["default"].in_atomic_block:
        return
    route.used.add(route.alias)
    deadline = time.monotonic() + CATCH_UP_SECONDS
    with connections[route.alias].cursor() as cursor:
        while True:
            cursor.execute("SELECT coalesce(pg_last_wal_replay_lsn() >= %s::pg_lsn, false)", [route.position])
            if cursor.fetchone()[0]:
                return
            if time.monotonic() >= deadline:
                break
            time.sleep(0.005)
    route.alias = None


def reading_from():
    """The alias this request reads from now ("default" outside requests and without replicas)."""
    route = _route.get()
    return route.alias if route is not None and route.alias is not None else "default"


def replica_status():
    """Each replica's state for /healthz: reachable, bytes of WAL not yet replayed, seconds behind, paused."""
    if not replica_aliases():
        return {}
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        primary_position = cursor.fetchone()[0]
    statuses = {}
    for alias in replica_aliases():
        try:
            with connections[alias].cursor() as cursor:
                cursor.execute(
                    """
                    SELECT pg_is_in_recovery(),
                           pg_wal_lsn_diff(%s::pg_lsn, pg_last_wal_replay_lsn()),
                           extract(epoch FROM now() - pg_last_xact_replay_timestamp()),
                           pg_is_in_recovery() AND pg_is_wal_replay_paused()
                    """,
                    [primary_position],
                )
                in_recovery, lag_bytes, since_replay, paused = cursor.fetchone()
        except (OperationalError, InterfaceError):
            mark_down(alias)
            statuses[alias] = {"status": "unavailable"}
            continue
        if not in_recovery:
            statuses[alias] = {"status": "error", "detail": "not a replica"}
            continue
        lag_bytes = max(int(lag_bytes or 0), 0)
        statuses[alias] = {
            "status": "ok",
            "lag_bytes": lag_bytes,
            # Time since the last replayed commit, when something is still to replay.
            "lag_seconds": round(float(since_replay or 0), 1) if lag_bytes else 0.0,
            "replay_paused": bool(paused),
        }
    return statuses
