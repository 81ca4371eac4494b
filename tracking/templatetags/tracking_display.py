"""The admin's numbers, bars and badges (tracking/admin/display.py) as template filters."""

from django import template

from .. import charts
from ..admin import display

register = template.Library()


@register.filter
def number(value):
    return display.number(value)


@register.filter
def target_bar(target):
    return display.target_bar(target)


@register.filter
def item_bar(item):
    """An item's mean completion against its mean expected progress; nothing without a measured target."""
    if item.mean_completion is None:
        return ""
    return display.completion_bar(item.mean_completion, item.mean_expected, None)


@register.filter
def status_badge(status):
    return display.status_badge(status)


@register.filter
def progress_text(target):
    return f"{display.number(target.progress)} / {display.number(target.target_value)} {target.unit}"


@register.filter
def report_badge(status):
    return display.report_badge(status)


@register.filter
def progress_chart(target):
    """The target's approved progress over time (its series, set by selectors.dashboard)."""
    return charts.progress_chart(target, target.series)
