"""Caching of public answers: shared by every client, so a reverse proxy or CDN can serve a crowd.

The ETag hashes the data version and its epoch (tracking.replicas.etag_version(),
read on the primary; the version moves with every committed change), the path and query, the language, today (statuses and
expected progress move with the date) and the tolerance; it names the user
not at all, because a public answer is the same for everyone. Responses say
`Cache-Control: public, max-age=TRACKING_PUBLIC_MAX_AGE`: a proxy serves its
copy for that long, then revalidates with If-None-Match, which costs one
query here. A body built for an ETag is kept in the cache and sent again to
the next client asking the same question. With read replicas, a body is
built only from a replica that has replayed what the version counts
(tracking.replicas.catch_up()), as for the API.
"""

import hashlib
import json

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse, HttpResponseNotModified
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.http import parse_etags

from ..replicas import catch_up, etag_version

KEPT_SECONDS = 600


def public_etag(request, version, *parts):
    key = [
        "public", request.path, sorted(request.GET.lists()), translation.get_language(), timezone.localdate(),
        settings.TRACKING_BEHIND_TOLERANCE, version, *parts,
    ]
    digest = hashlib.sha256(json.dumps(key, default=str, ensure_ascii=False).encode()).hexdigest()[:32]
    return f'W/"{digest}"'


def holds(request, etag):
    header = request.headers.get("If-None-Match")
    if not header:
        return False
    wanted = {tag.removeprefix("W/") for tag in parse_etags(header)}
    return "*" in wanted or etag.removeprefix("W/") in wanted


def public_response(request, respond, *parts):
    """304 if the client holds the current ETag, else a body kept for it, else respond() (an HttpResponse
    whose 200s are kept); always with the public Cache-Control and the ETag."""
    epoch, version = etag_version()
    # While another session's change is in flight there is no version: answer fresh, keep nothing.
    etag = None if version is None else public_etag(request, [epoch, version], *parts)
    if etag is not None and holds(request, etag):
        response = HttpResponseNotModified()
    elif etag is not None and (kept := cache.get(f"public:{etag}")) is not None:
        content, content_type = kept
        response = HttpResponse(content, content_type=content_type)
    else:
        catch_up()
        response = respond()
        if hasattr(response, "render"):
            response.render()
        if etag is not None and response.status_code == 200:
            cache.set(f"public:{etag}", (response.content, response["Content-Type"]), KEPT_SECONDS)
    if etag is not None:
        response["ETag"] = etag
    patch_cache_control(response, public=True, max_age=settings.TRACKING_PUBLIC_MAX_AGE)
    patch_vary_headers(response, ["Accept-Language"])
    return response
