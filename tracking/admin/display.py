"""HTML pieces the admin's lists, pages and dashboard show: numbers, bars and badges.

The dashboard's template reaches them through the tracking_display template
filters (tracking/templatetags).
"""

from decimal import Decimal

from django import forms
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from .. import numbers
from ..models import ProgressReport, Target


# 12000 → "12,000"; 0.5 → "0.5"; None → "—".
number = numbers.grouped
# 12000, "名" → "12,000 名".
quantity = numbers.quantity


def percent(value):
    return "—" if value is None else f"{value:.0f}%"


def completion_bar(completion, expected, status):
    """A bar filled to the completion, with a tick at the progress expected by today."""
    fill = 0.0 if completion is None else max(0.0, min(float(completion), 100.0))
    tick = 0.0 if expected is None else max(0.0, min(float(expected), 100.0))
    title = _("完成 %(done)s，按时间应完成 %(expected)s") % {"done": percent(completion), "expected": percent(expected)}
    return format_html(
        '<span class="tt-progress" title="{}"><span class="tt-bar">'
        '<span class="tt-fill tt-{}" style="width: {}%"></span>'
        '<span class="tt-expected" style="left: {}%"></span></span>'
        '<span class="tt-pct">{}</span></span>',
        title, status or "none", f"{fill:.1f}", f"{tick:.1f}", percent(completion),
    )


def target_bar(target):
    # A figure that was only reported has nothing to complete.
    if target.target_value is None:
        return "—"
    return completion_bar(target.completion, target.expected, target.status)


def status_badge(status):
    if not status:
        return "—"
    return format_html('<span class="tt-badge tt-{}">{}</span>', status, Target.Status(status).label)


def report_badge(status):
    return format_html('<span class="tt-badge tt-report-{}">{}</span>', status, ProgressReport.Status(status).label)


def evidence_url(report):
    return reverse("admin:tracking_progressreport_evidence", args=[report.pk])


def target_choice_label(target):
    """A target among many regions and years: "通州区 2024 年度计划 · 4.1 送清凉/送温暖"."""
    programme = target.programme
    return f"{programme.region.name} {programme.year} {programme.get_kind_display()} · {target.code} {target.name}"


class PlainDecimalField(forms.DecimalField):
    """A figure's input shows 12000, not the stored 12000.0000."""

    def prepare_value(self, value):
        return numbers.plain(value) if isinstance(value, Decimal) else value


def plain_decimal_formfield(db_field, kwargs):
    """formfield_for_dbfield's kwargs, with PlainDecimalField for decimal columns."""
    if db_field.get_internal_type() == "DecimalField":
        kwargs.setdefault("form_class", PlainDecimalField)
    return kwargs
