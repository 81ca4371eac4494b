"""Numbers, bars and status words for the 公示 pages, whose rows are plain dicts (public/selectors.py)."""

from django import template
from django.utils.html import format_html

from .. import numbers
from ..models import Target

register = template.Library()


@register.filter
def pct(value):
    return "—" if value is None else f"{value:.0f}%"


@register.filter
def num(value):
    return numbers.grouped(value)


@register.filter
def qty(value, unit):
    """12000, "名" → "12,000 名"; 95, "%" → "95%"."""
    return numbers.quantity(value, unit)


@register.filter
def status_label(status):
    return Target.Status(status).label if status else "—"


@register.simple_tag
def bar(completion, expected=None, status=None):
    """A bar filled to the completion (capped at 100 %), with a tick where time says it should be."""
    fill = 0.0 if completion is None else max(0.0, min(float(completion), 100.0))
    tick = "" if expected is None else format_html('<i style="left:{}%"></i>', f"{max(0.0, min(float(expected), 100.0)):.0f}")
    return format_html('<b class="bar"><b class="{}" style="width:{}%"></b>{}</b>', status or "none", f"{fill:.0f}", tick)
