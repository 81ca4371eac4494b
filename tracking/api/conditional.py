"""Conditional GET: ETags named by the data version, 304s, and bodies kept per ETag."""

import hashlib
import json

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse, HttpResponseNotModified
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.http import parse_etags
from rest_framework.permissions import SAFE_METHODS

from ..replicas import catch_up, etag_version


class ConditionalGetMixin:
    """ETags on lists and details, checked before the body is built.

    The ETag hashes the data version and its epoch (etag_version()), the path and query
    string, the user's scope, the language and the format, and for figures
    that move with the date, today. Any committed change to regions,
    programmes, items, targets or reports changes every ETag: coarser than an
    aggregate over the rows shown, but never behind them, and one cheap query.
    """

    # Expected progress and status change with the date even when no row does.
    etag_depends_on_today = False

    def etag_for(self, *parts, action=None, path=None):
        user = self.request.user
        membership = getattr(user, "membership", None) if user.is_authenticated else None
        key = [
            type(self).__name__,
            action or self.action,
            path or self.request.get_full_path(),
            user.pk,
            user.is_superuser,
            membership and (membership.region_id, membership.role),
            translation.get_language(),
            self.request.accepted_renderer.format,
            timezone.localdate() if self.etag_depends_on_today else None,
            # Statuses depend on it, and it changes with a restart rather than a row.
            settings.TRACKING_BEHIND_TOLERANCE,
            *parts,
        ]
        digest = hashlib.sha256(json.dumps(key, default=str, ensure_ascii=False).encode()).hexdigest()[:32]
        return f'W/"{digest}"'

    def not_modified(self, etag):
        header = self.request.headers.get("If-None-Match")
        if not header:
            return False
        wanted = {tag.removeprefix("W/") for tag in parse_etags(header)}
        if etag.removeprefix("W/") in wanted:
            return True
        # "*" matches any current representation, so only an object that exists and is
        # in scope: /targets/999999/ with it is answered as without it, a 404.
        return "*" in wanted and (not getattr(self, "detail", False) or self.get_lookup_queryset().exists())

    def conditional(self, respond):
        """respond() builds the 200 response; it is not called when the client's copy is current."""
        epoch, version = etag_version()
        if version is None:
            return respond()
        etag = self.etag_for(epoch, version)
        response = self.answer(etag, respond)
        response["ETag"] = etag
        return response

    def answer(self, etag, respond):
        """304 if the client holds this ETag; else a JSON body already built for it; else respond().

        The ETag names this exact answer (data version, query, user, scope,
        language, format and, where it matters, today), so a body built for
        it can be sent again as it is, to every client asking the same question.
        """
        if self.not_modified(etag):
            return HttpResponseNotModified()
        cache_key = f"body:{etag}" if self.request.accepted_renderer.format == "json" else None
        if cache_key and (body := cache.get(cache_key)) is not None:
            return HttpResponse(body, content_type="application/json")
        # The body is built from data no older than the version its ETag names.
        catch_up()
        response = respond()
        if cache_key and response.status_code == 200:
            response.add_post_render_callback(lambda rendered: cache.set(cache_key, rendered.content, 600))
        return response

    def conditional_on_content(self, response):
        """For data without timestamps: the ETag hashes the data, which saves the transfer but not the work."""
        if response.status_code != 200:
            return response
        etag = self.etag_for(response.data)
        if self.not_modified(etag):
            response = HttpResponseNotModified()
        response["ETag"] = etag
        return response

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method in SAFE_METHODS:
            patch_vary_headers(response, ["Accept", "Accept-Language", "Authorization", "Cookie"])
            # Clients keep the copy but check it every time, with If-None-Match.
            patch_cache_control(response, no_cache=True, **({"private": True} if request.user.is_authenticated else {}))
        return response
