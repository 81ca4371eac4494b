"""Progress over time as a small SVG drawn on the server: no script, no front-end build.

One chart, shown on the public pages (tracking/public), on the admin's target
page and in the dashboard's programme rows. Its points are
progress.progress_series() / progress_series_of() (approved reports only);
nothing is computed here but coordinates.

The chart plots completion (percent of the target value) against time, from
the target's start to its due date, with the line a target on schedule would
follow (the expected progress) dashed beneath it. A figure without a target
value plots its progress against the largest value reported.
"""

import datetime

from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from . import numbers

WIDTH, HEIGHT = 240, 64
# Room for the labels on the right (100%, the last value) and below (dates).
PLOT_RIGHT, PLOT_BOTTOM = 200, 52
COLOURS = {
    "achieved": "#2e7d32", "on_track": "#4a90c2", "behind": "#d9822b", "overdue": "#c62828",
    "not_started": "#9e9e9e", "reported": "#6d7f95",
}


def _x(day, start, end):
    span = max((end - start).days, 1)
    share = min(max((day - start).days / span, 0.0), 1.0)
    return _n(share * PLOT_RIGHT)


def _y(value, top):
    # The plot's top is 4 px below the edge, so that a dot at the top shows whole.
    return _n(PLOT_BOTTOM - min(max(value / top, 0.0), 1.0) * (PLOT_BOTTOM - 4))


def _n(coordinate):
    """A coordinate to a tenth, without a trailing .0: every byte counts on a page of forty charts."""
    rounded = round(coordinate, 1)
    return int(rounded) if rounded == int(rounded) else rounded


def progress_chart(target, points, *, today=None):
    """The SVG of a target's approved progress over time (a safe string).

    `target` has period_start, due_date, target_value, unit and (annotated by
    with_progress) status; `points` are its progress series in date order.
    """
    start, end = target.period_start, target.due_date
    today = today or datetime.date.today()
    measured = target.target_value is not None
    if measured:
        values = [p["completion"] or 0.0 for p in points]
        top = max([100.0, *values])
    else:
        values = [float(p["progress"] or 0) for p in points]
        top = max([1.0, *values])
    colour = COLOURS.get(getattr(target, "status", None), "#4a90c2")
    # A staircase: progress holds from one report to the next.
    path, last_y = [f"M0 {PLOT_BOTTOM}"], PLOT_BOTTOM
    for point, value in zip(points, values):
        x, y = _x(point["period_end"], start, end), _y(value, top)
        path.append(f"H{x}V{y}")
        last_y = y
    if points:
        path.append(f"H{_x(min(today, end), start, end)}")
    parts = [
        f'<svg class="tt-chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img">',
        f"<title>{escape(_chart_title(target, points))}</title>",
        f'<path d="M0 {PLOT_BOTTOM}H{PLOT_RIGHT}" stroke="#bbb" fill="none"/>',
    ]
    if measured:
        hundred = _y(100.0, top)
        parts.append(f'<path d="M0 {hundred}H{PLOT_RIGHT}" stroke="#ddd" fill="none"/>')
        parts.append(f'<text x="{PLOT_RIGHT + 3}" y="{_n(hundred + 3)}" font-size="9" fill="#888">100%</text>')
        # Expected progress: 0 at the start, 100 % at the due date.
        parts.append(
            f'<path d="M0 {PLOT_BOTTOM}L{PLOT_RIGHT} {hundred}" stroke="#999" stroke-dasharray="3 3" fill="none"/>'
        )
        # Today, where the expected line stands now.
        if start <= today <= end:
            x = _x(today, start, end)
            parts.append(f'<path d="M{x} 2V{PLOT_BOTTOM}" stroke="#e0b0b0" fill="none"/>')
    parts.append(f'<path d="{"".join(path)}" stroke="{colour}" stroke-width="2" fill="none"/>')
    for point, value in zip(points, values):
        x, y = _x(point["period_end"], start, end), _y(value, top)
        parts.append(f'<circle cx="{x}" cy="{y}" r="2.5" fill="{colour}"/>')
    if points:
        label = f"{values[-1]:.0f}%" if measured else numbers.grouped(points[-1]["progress"])
        parts.append(f'<text x="{PLOT_RIGHT + 3}" y="{_n(max(last_y, 20) + 3)}" font-size="10" fill="{colour}">{escape(label)}</text>')
    parts.append(f'<text x="0" y="{HEIGHT - 1}" font-size="9" fill="#888">{start:%m-%d}</text>')
    parts.append(f'<text x="{PLOT_RIGHT}" y="{HEIGHT - 1}" font-size="9" fill="#888" text-anchor="end">{end:%m-%d}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))


def _chart_title(target, points):
    """What the chart says, for screen readers and on hover."""
    if not points:
        return _("%(name)s：尚无已审核的进度") % {"name": target.name}
    last = points[-1]
    if target.target_value is not None:
        done = f"{last['completion'] or 0:.0f}%"
    else:
        done = numbers.quantity(last["progress"], target.unit)
    return _("%(name)s：截至 %(day)s 完成 %(done)s（%(count)d 次已审核填报）") % {
        "name": target.name, "day": last["period_end"], "done": done, "count": len(points),
    }
