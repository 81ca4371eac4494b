"""进度看板: the user's programmes of the year with their bars, status counts and what needs attention.

The figures come from tracking.selectors.dashboard; the page is the template
admin/tracking/dashboard.html with the tracking_display filters.
"""

from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from .. import selectors


def dashboard_view(target_admin, request):
    # Whoever may list targets may see them summed up.
    if not target_admin.has_view_permission(request):
        raise PermissionDenied
    context = {**target_admin.admin_site.each_context(request), **selectors.dashboard(request.user), "title": _("进度看板")}
    return TemplateResponse(request, "admin/tracking/dashboard.html", context)
