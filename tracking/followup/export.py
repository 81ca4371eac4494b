"""The completeness grid as a spreadsheet (tracking.exports.spreadsheet_response writes CSV or xlsx)."""

import tablib
from django.utils.translation import gettext as _

from ..exports import excel_safe
from .selectors import STATES


def cell_text(cell):
    if cell is None:
        return "—"
    if cell.state is not None:
        return str(STATES[cell.state])
    tally = cell.tally
    if not tally.expected:
        return str(STATES["not_due"])
    return f"{tally.reported}/{tally.expected}（{_('按时')} {tally.on_time}）"


def rate(value):
    return "" if value is None else format(value, "f")


def grid_dataset(grid):
    """One row per region, one column per period, then its expected, reported, on-time figures and rates."""
    headers = [
        _("地区代码"), _("地区"), *[str(p.label) if p.frequency != "once" else p.key for p in grid.columns],
        _("应报"), _("实报"), _("按时"), _("报送率（%）"), _("及时率（%）"),
    ]
    dataset = tablib.Dataset(headers=headers, title=_("报送情况"))
    for row in grid.rows:
        name = row.region.name + ("" if not row.own else _("（本级）"))
        dataset.append([
            row.region.pk, excel_safe(name), *[cell_text(row.cells.get(p.key)) for p in grid.columns],
            row.tally.expected, row.tally.reported, row.tally.on_time,
            rate(row.tally.reporting_rate), rate(row.tally.on_time_rate),
        ])
    total = grid.tally
    dataset.append([
        "", _("合计"), *["" for _p in grid.columns], total.expected, total.reported, total.on_time,
        rate(total.reporting_rate), rate(total.on_time_rate),
    ])
    return dataset
