"""Password guessing: django-axes' lockout, counted per username and client address (settings: AXES_*)."""

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib import admin
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from .middleware import error_response


class LoginThrottleBackend(AxesStandaloneBackend):
    """django-axes' lockout check, for logins that come from an HTTP request.

    Axes refuses authenticate() calls without a request. Those never come from
    a client over the network (the admin's login form and the API's token view
    both pass it); they come from scripts and from the test client's login(),
    which should keep working, so they are left to ModelBackend.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def client_ip(request):
    """The client's address, trusting X-Forwarded-For only as far as TRUSTED_PROXIES reverse proxies added to it.

    The same rule as DRF's throttles with NUM_PROXIES, so that login lockouts
    and request throttling count the same client. Without trusted proxies the
    header is ignored: any client can write it.
    """
    proxies = settings.REST_FRAMEWORK.get("NUM_PROXIES") or 0
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        addresses = [part.strip() for part in forwarded.split(",")]
        return addresses[-min(proxies, len(addresses))]
    return request.META.get("REMOTE_ADDR")


# django-axes' AccessAttempt.username column.
AXES_USERNAME_MAX = 255


def client_username(request, credentials=None):
    """The username axes counts failures for, cut to its column's 255 characters.

    Any login form axes watches (the admin's, DRF's browsable login) may be sent
    a longer one; the database would refuse to record it (a 500). The forms
    refuse such usernames themselves; this keeps any other path from failing.
    """
    field = settings.AXES_USERNAME_FORM_FIELD
    if credentials:
        username = credentials.get(field)
    else:
        username = getattr(request, "data", request.POST).get(field)
    return username[:AXES_USERNAME_MAX] if isinstance(username, str) else username


def login_locked_out(request, original_response=None, credentials=None):
    """Axes' answer once the failure limit is reached: 429, in Chinese, without echoing the credentials.

    The admin's login gets a page in the admin's frame, saying how long to wait;
    anything else a short HTML or JSON error.
    """
    minutes = max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))
    if request.path.startswith(reverse("admin:index")):
        context = {**admin.site.each_context(request), "minutes": minutes, "title": _("账户已暂时锁定")}
        return render(request, "admin/tracking/locked_out.html", context, status=429)
    message = _("登录失败次数过多，账户已暂时锁定，请 %(minutes)d 分钟后再试") % {"minutes": minutes}
    return error_response(request, message, 429)
