"""Closed periods: the one check every write of a report asks, and the services that close and reopen.

A period is closed for a region when a reviewer closed it (an active
PeriodClosure row covers the report's date), or, when
TRACKING_CLOSE_AFTER_DAYS is above 0, once its reporting period (by the
programme's calendar) has been due that many days (DHIS2's expiry days).
In a closed period reports cannot be created, changed, deleted, imported or
submitted, and an approved one cannot be returned; a submitted one may still
be approved or returned, so that what arrived in time is reviewed.

tracking.services.reports calls ensure_open() (the admin and the API write
through those services); tracking.importing calls closed_rows() for a file's
rows at once. Nothing else decides whether a period is closed.
"""

import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import access
from ..models import PeriodClosure, Region
from . import calendar


def closed_rows(rows, *, today=None):
    """For (region code, date, programme) rows, the closure (start, end) of each closed one, by row index.

    One query, whatever the number of rows.
    """
    rows = list(rows)
    if not rows:
        return {}
    today = today or timezone.localdate()
    days = [day for _region, day, _programme in rows]
    closures = {}
    for closure in PeriodClosure.objects.filter(
        region__any={region for region, _day, _programme in rows}, reopened_at__isnull=True,
        start__lte=max(days), end__gte=min(days),
    ).values("region_id", "start", "end"):
        closures.setdefault(closure["region_id"], []).append((closure["start"], closure["end"]))
    expiry = settings.TRACKING_CLOSE_AFTER_DAYS
    found = {}
    for index, (region, day, programme) in enumerate(rows):
        for start, end in closures.get(region, ()):
            if start <= day <= end:
                found[index] = (start, end)
                break
        else:
            if expiry and programme is not None:
                period = calendar.period_of(day, calendar.programme_periods(programme))
                if period is not None and today > period.due + datetime.timedelta(days=expiry):
                    found[index] = (period.start, period.end)
    return found


def refusal(start, end):
    return _("%(start)s 至 %(end)s 的期间已关闭，不能新增、修改、导入或提交填报；如需更正，请审核员重新开放") % {
        "start": start, "end": end,
    }


def ensure_open(*, programme, day, today=None):
    """ValidationError (on period_end) when the programme's region has closed the period containing `day`."""
    closed = closed_rows([(programme.region_id, day, programme)], today=today)
    if closed:
        raise ValidationError({"period_end": refusal(*closed[0])})


@transaction.atomic
def close_period(*, user, region, start, end, reason="", subtree=False):
    """Close start..end for a region, or (subtree=True) for it and every region under it. Returns the new closures.

    Only a reviewer of a region above or at it (or a superuser) may close;
    regions already closed for exactly this period are left as they are.
    """
    if not (access.reviews_reports(user) and access.in_scope(user, region.pk)):
        raise PermissionDenied(_("只有上级审核员可以关闭期间"))
    if start is None or end is None or start > end:
        raise ValidationError({"end": _("截止日期不能早于起始日期")})
    regions = Region.objects.subtree(region.pk) if subtree else Region.objects.filter(pk=region.pk)
    codes = list(regions.values_list("code", flat=True))
    already = set(
        PeriodClosure.objects.filter(region__in=codes, start=start, end=end, reopened_at__isnull=True)
        .values_list("region_id", flat=True)
    )
    now = timezone.now()
    closures = [
        PeriodClosure(region_id=code, start=start, end=end, reason=reason, closed_by=user, closed_at=now)
        for code in codes if code not in already
    ]
    return PeriodClosure.objects.bulk_create(closures)


@transaction.atomic
def reopen_period(*, user, closure, reason):
    """Reopen a closed period for its region; the reason, who and when are kept on the closure."""
    if not (reason or "").strip():
        raise ValidationError({"reopen_reason": _("重新开放时必须填写理由")})
    closure = PeriodClosure.objects.select_for_update().filter(pk=closure.pk).first()
    if closure is None:
        raise ValidationError(_("该关闭记录已不存在"))
    if not (access.reviews_reports(user) and access.in_scope(user, closure.region_id)):
        raise PermissionDenied(_("只有上级审核员可以重新开放期间"))
    if closure.reopened_at is not None:
        raise ValidationError(_("该期间已重新开放"))
    closure.reopened_by, closure.reopened_at, closure.reopen_reason = user, timezone.now(), reason.strip()
    closure.save(update_fields=["reopened_by", "reopened_at", "reopen_reason"])
    return closure
