"""报送情况: the completeness grid for reviewers, regions as rows and periods as columns.

The figures come from tracking.followup.selectors.grid(), as the API's
completeness/ (which also downloads them as CSV or xlsx). Each cell links to
the report list filtered to its region and period; an aggregate row's region
name opens that region's own grid.
"""

import datetime
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from ..followup import selectors
from ..models import Programme, Region


def completeness_view(programme_admin, request):
    if not programme_admin.has_view_permission(request):
        raise PermissionDenied
    today = timezone.localdate()
    year = _int(request.GET.get("year")) or today.year
    as_of = _date(request.GET.get("as_of")) or today
    regions = Region.objects.visible_to(request.user)
    code = request.GET.get("region")
    if code:
        region = regions.filter(pk=code).first()
        if region is None:
            raise PermissionDenied(_("无权查看该地区"))
    else:
        membership = getattr(request.user, "membership", None)
        region = membership.region if membership is not None else None
        if region is None and not request.user.is_superuser:
            raise PermissionDenied(_("您还没有所属地区"))
    programmes = Programme.objects.visible_to(request.user).filter(year=year, kind=Programme.Kind.ANNUAL_PLAN)
    grid = selectors.grid(region=region, programmes=programmes, as_of=as_of)
    reports = reverse("admin:tracking_progressreport_changelist")
    rows = []
    for row in grid.rows:
        cells = []
        for period in grid.columns:
            cell = row.cells.get(period.key)
            if cell is None:
                cells.append(None)
                continue
            query = urlencode({"region": row.region.pk, "year": year, "period_end__gte": period.start,
                               "period_end__lte": period.end})
            cells.append({"cell": cell, "url": f"{reports}?{query}", "text": _cell_text(cell)})
        drill = None
        if not row.own and row.region.level != Region.Level.DISTRICT:
            drill = "?" + urlencode({"region": row.region.pk, "year": year, "as_of": as_of})
        rows.append({"row": row, "cells": cells, "drill": drill})
    api = reverse("completeness") + "?" + urlencode({"region": region.pk, "year": year} if region else {"year": year})
    context = {
        **programme_admin.admin_site.each_context(request),
        "title": _("报送情况"), "grid": grid, "rows": rows, "region": region, "year": year, "as_of": as_of,
        "states": list(selectors.STATES.items()), "download": api,
        "up": (
            "?" + urlencode({"region": region.parent_id, "year": year})
            if region and region.parent_id and regions.filter(pk=region.parent_id).exists() else None
        ),
    }
    return TemplateResponse(request, "admin/tracking/completeness.html", context)


def _cell_text(cell):
    if cell.state is not None:
        return str(selectors.STATES[cell.state])
    tally = cell.tally
    if not tally.expected:
        return str(selectors.STATES[selectors.NOT_DUE])
    return f"{tally.reported}/{tally.expected}"


def _int(raw):
    return int(raw) if raw and raw.isdigit() and 1900 <= int(raw) <= 2999 else None


def _date(raw):
    try:
        return datetime.date.fromisoformat(raw) if raw else None
    except ValueError:
        return None
