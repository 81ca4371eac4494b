"""Saving what a person kept from an extraction: a draft programme in one transaction.

The programme, its items and targets are created as they are; every figure
of a report becomes a draft progress report, so nothing counts until the
ordinary workflow (submit, approve) has passed it. Only a manager may do this,
and only for a region they see (tracking.access.may_manage).
"""

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import access, months, tallies
from ..models import Item, Programme, ProgressReport, Target


@transaction.atomic
def create_draft_programme(
    *, user, region, kind, year, period_start, period_end, title, items, description="", source_document=""
):
    """Create the programme, its items, targets and draft reports; all or nothing.

    items: [{"title", "text", "category", "targets": [{"name", "unit", "target_value", "measure",
    "aggregation", "report": None or {"value", "qualifier", "note", "source_quote"}}]}], the shape
    tracking.extraction.fixture.draft_items() gives.
    """
    if not access.may_manage(user, getattr(region, "pk", region)):
        raise PermissionDenied(_("只有本地区的管理员可以从报告创建计划"))
    if not any(item["targets"] for item in items):
        raise ValidationError({"items": _("没有选中任何数字，无需保存")})
    if Programme.objects.filter(region=region, year=year, kind=kind).exists():
        raise ValidationError({"year": _("该地区 %(year)s 年已有同类计划，请先在原计划中修改") % {"year": year}})
    programme = Programme(
        region_id=getattr(region, "pk", region), kind=kind, year=year, title=title[:200], description=description,
        period_start=period_start, period_end=period_end, source_document=source_document[:100],
    )
    _save(programme, user)
    # A report's date is the end of the period, or today while the period runs:
    # a report may not be dated in the future.
    report_date = min(period_end, timezone.localdate())
    reports = 0
    for number, fields in enumerate(items, start=1):
        item = Item(programme=programme, number=number, title=fields["title"][:200], text=fields["text"],
                    category=fields["category"])
        _save(item, user)
        for code, target_fields in enumerate(fields["targets"], start=1):
            report = target_fields.get("report")
            target = Target(
                programme=programme, item=item, year=year, period_start=period_start, code=f"{number}.{code}", name=target_fields["name"][:200],
                unit=target_fields["unit"][:20], measure=target_fields["measure"],
                aggregation=target_fields["aggregation"], due_date=period_end,
                target_value=_decimal(target_fields["target_value"]),
            )
            _save(target, user)
            if report is None:
                continue
            _save(
                ProgressReport(
                    target=target, period_end=report_date, value=_decimal(report["value"]),
                    qualifier=report["qualifier"], note=report.get("note", "")[:2000],
                    source_quote=report["source_quote"], created_by=user, status=ProgressReport.Status.DRAFT,
                ),
                user,
            )
            reports += 1
    # Its targets are counted, not started, in its tally; the draft reports count for nothing yet
    # but are drafts in their months.
    tallies.recount([programme.pk])
    months.recount([programme.pk])
    return programme, reports


def _decimal(value):
    return None if value is None else Decimal(str(value))


def _save(instance, user):
    instance.full_clean()
    instance._history_user = user
    instance.save()

