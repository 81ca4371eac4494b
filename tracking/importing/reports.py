"""Checking imported rows against the targets, then writing them as drafts in one transaction."""

import datetime
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from .. import access, months, workflow
from ..db import lock
from ..followup import closing
from ..models import Programme, ProgressReport, Region, Target
from .cells import PARSERS


@dataclass
class RowError:
    row: int
    field: str
    message: str


@dataclass
class ImportResult:
    dry_run: bool
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list = field(default_factory=list)

    @property
    def ok(self):
        return not self.errors


@dataclass(slots=True)
class _Row:
    """A row's parsed cells; a cell that did not parse is None, and the row is not complete."""

    number: int
    key: tuple  # (region, year, kind, target code)
    item: int
    period_end: datetime.date
    value: Decimal
    qualifier: str
    note: str
    complete: bool = True


def _parse(number, raw, errors):
    """One row's cells, recording the error of every cell that does not parse; None if it is not a row at all."""
    if not isinstance(raw, dict):
        errors.append(RowError(number, "", _("每一行应为一个对象")))
        return None
    cells, complete = {}, True
    for column, parse in PARSERS.items():
        try:
            cells[column] = parse(raw.get(column))
        except ValueError as error:
            errors.append(RowError(number, column, str(error)))
            cells[column], complete = None, False
    key = (cells["region"], cells["year"], cells["kind"], cells["target"])
    return _Row(
        number, key, cells["item"], cells["period_end"], cells["value"], cells["qualifier"], cells["note"], complete
    )


def import_reports(*, user, rows, dry_run, first_row=2):
    """Validate every row, then create or update drafts in one transaction.

    first_row is the number shown for rows[0] in error messages: 2 for files,
    whose first line is the header, 1 for JSON lists.
    """
    if not access.enters_reports(user):
        raise PermissionDenied(_("只有填报员或管理员可以导入填报"))
    result = ImportResult(dry_run=dry_run)
    parsed = [_parse(first_row + i, raw, result.errors) for i, raw in enumerate(rows)]
    parsed = [row for row in parsed if row is not None]

    targets = _targets_for(parsed)
    visible = set(Region.objects.visible_to(user).values_list("code", flat=True))
    known_regions = set(
        Region.objects.filter(code__any={r.key[0] for r in parsed} - {None}).values_list("code", flat=True)
    )
    today = timezone.localdate()
    seen = {}
    matched = []
    for row in parsed:
        # Every problem of a row at once, also beside cells that did not parse, so
        # that the clerk fixes the row in one go.
        errors = _check(row, targets, visible, known_regions, today, seen)
        if errors:
            result.errors.extend(errors)
        elif row.complete:
            matched.append((row, targets[row.key]))
    if not rows:
        result.errors.append(RowError(first_row, "", _("文件中没有数据行")))
    # Closed periods (the one check, tracking.followup.closing), for every matched row at once;
    # a _Target carries its programme's dates and calendar.
    closed = closing.closed_rows(((row.key[0], row.period_end, target) for row, target in matched), today=today)
    for index, (start, end) in closed.items():
        result.errors.append(RowError(matched[index][0].number, "period_end", closing.refusal(start, end)))
    if result.errors:
        result.errors.sort(key=_reading_order)
        return result

    with transaction.atomic():
        if not dry_run:
            # Lock the targets so that two uploads of the same file are applied
            # one after the other: the second then finds every row unchanged.
            ids = sorted({target.pk for _row, target in matched})
            lock(Target.objects.filter(pk__any=ids))
        _apply(user, matched, result)
        if result.errors or dry_run:
            transaction.set_rollback(True)
    result.errors.sort(key=_reading_order)
    return result


COLUMN_ORDER = {column: index for index, column in enumerate(PARSERS)}


def _reading_order(error):
    """By row, and within a row from left to right, as the clerk reads the file."""
    return error.row, COLUMN_ORDER.get(error.field, len(COLUMN_ORDER))


@dataclass(slots=True)
class _Target:
    """What checking a row needs of its target: a row of values, not three model instances,
    because a national file refers to tens of thousands of targets."""

    pk: int
    programme_id: int
    item_number: int
    period_start: datetime.date
    period_end: datetime.date
    # The programme's reporting calendar, for closed periods (tracking.followup.closing).
    reporting_frequency: str
    due_days: int | None


def _targets_for(parsed):
    """Every target the rows may refer to, in one query, keyed by natural key."""
    regions = {r.key[0] for r in parsed} - {None}
    years = {r.key[1] for r in parsed} - {None}
    if not regions or not years:
        return {}
    rows = Target.objects.filter(programme__region__any=regions, programme__year__any=years).values_list(
        "programme__region", "programme__year", "programme__kind", "code",
        "pk", "programme_id", "item__number", "programme__period_start", "programme__period_end",
        "programme__reporting_frequency", "programme__due_days",
    )
    return {(region, year, kind, code): _Target(*rest) for region, year, kind, code, *rest in rows.iterator(2000)}


def _check(row, targets, visible, known_regions, today, seen):
    """The row's errors against the database and the other rows (None if it has none)."""
    # The common case first, with no list built: a whole row of a visible region whose target
    # takes it. A national file has 100,000 of these.
    if row.complete and row.key[0] in visible:
        target = targets.get(row.key)
        if (
            target is not None and target.item_number == row.item
            and target.period_start <= row.period_end <= target.period_end and row.period_end <= today
        ):
            natural_key = (target.pk, row.period_end)
            if natural_key in seen:
                return [RowError(row.number, "", _("与第 %(row)d 行重复") % {"row": seen[natural_key]})]
            seen[natural_key] = row.number
            return None
    return _errors(row, targets, visible, known_regions, today)


def _errors(row, targets, visible, known_regions, today):
    """Every error of a row that fails: each check its parsed cells allow, so that all come at once."""
    errors = []
    region, year, kind, code = row.key
    target = None
    if region is not None:
        if region not in known_regions:
            errors.append(RowError(row.number, "region", _("未知的地区代码 %(code)s") % {"code": region}))
        elif region not in visible:
            errors.append(RowError(row.number, "region", _("无权填报其他地区（%(code)s）的数据") % {"code": region}))
        elif None not in row.key:
            target = targets.get(row.key)
            if target is None:
                errors.append(RowError(
                    row.number, "target", _("未找到指标：%(year)s 年%(kind)s 的 %(code)s")
                    % {"year": year, "kind": Programme.Kind(kind).label, "code": code}
                ))
    in_period = True
    if target is not None:
        if row.item is not None and target.item_number != row.item:
            errors.append(RowError(
                row.number, "item", _("指标 %(code)s 属于事项 %(right)d，而不是 %(wrong)d")
                % {"code": code, "right": target.item_number, "wrong": row.item}
            ))
        if row.period_end is not None and not target.period_start <= row.period_end <= target.period_end:
            in_period = False
            errors.append(RowError(
                row.number, "period_end", _("日期 %(date)s 不在计划期间 %(start)s 至 %(end)s 内")
                % {"date": row.period_end, "start": target.period_start, "end": target.period_end}
            ))
    if row.period_end is not None and in_period and row.period_end > today:
        errors.append(RowError(row.number, "period_end", _("截至日期不能晚于今天")))
    return errors


def _apply(user, matched, result):
    existing = {
        (r.target_id, r.period_end): r
        for r in ProgressReport.objects.filter(
            target_id__any={target.pk for _row, target in matched},
            period_end__any={row.period_end for row, _target in matched},
        )
    }
    now = timezone.now()
    to_create, to_update = [], []
    # New drafts per programme and month (tracking.months).
    drafts = Counter()
    for row, target in matched:
        report = existing.get((target.pk, row.period_end))
        if report is None:
            to_create.append((target.pk, row.period_end, row.value, row.qualifier, row.note))
            drafts[target.programme_id, row.period_end.replace(day=1)] += 1
            continue
        if (report.value, report.qualifier, report.note) == (row.value, row.qualifier, row.note):
            result.unchanged += 1
            continue
        if report.status not in workflow.EDITABLE:
            result.errors.append(
                RowError(row.number, "value", _("该填报已%(status)s，不能通过导入修改") % {"status": report.get_status_display()})
            )
            continue
        report.value, report.qualifier, report.note, report.updated_at = row.value, row.qualifier, row.note, now
        to_update.append(report)
    result.created, result.updated = len(to_create), len(to_update)
    if result.errors:
        return
    # Imported reports are drafts, which count neither as progress nor as
    # pending, so the stored totals need no refresh here.
    _create_drafts(user, to_create, now)
    bulk_update_with_history(
        to_update, ProgressReport, ["value", "qualifier", "note", "updated_at"], batch_size=2000, default_user=user
    )
    # New drafts are drafts in their months (the completeness grid); an updated report stays what it
    # was (a draft or returned), which changes nothing there.
    if drafts and not result.dry_run:
        months.add_drafts(drafts)


NEW_DRAFT_COLUMNS = ("target_id", "period_end", "value", "qualifier", "note")


def _create_drafts(user, rows, now):
    """New drafts from (target_id, period_end, value, qualifier, note) tuples, each with its '+' history record.

    On PostgreSQL the rows are streamed with COPY into a temporary table and
    both the reports and their history are written by one INSERT … SELECT
    each, so no model instance is built; bulk_create_with_history() would
    build two per row and send every value twice. Elsewhere it is used as is.
    Both write the same rows: model defaults for the other columns, and
    history dated `now` by `user`, as bulk_create_with_history() does.
    """
    if not rows:
        return
    if connection.vendor != "postgresql":
        drafts = [
            ProgressReport(
                **dict(zip(NEW_DRAFT_COLUMNS, row)), created_by=user, status=ProgressReport.Status.DRAFT,
                created_at=now, updated_at=now,
            )
            for row in rows
        ]
        bulk_create_with_history(drafts, ProgressReport, batch_size=2000, default_user=user)
        return
    constants = {
        "created_by_id": user.pk, "status": ProgressReport.Status.DRAFT, "created_at": now, "updated_at": now,
    }
    report_columns, report_values, params = [], [], []
    for f in ProgressReport._meta.concrete_fields:
        if f.primary_key:
            continue
        report_columns.append(connection.ops.quote_name(f.column))
        if f.attname in NEW_DRAFT_COLUMNS:
            report_values.append(connection.ops.quote_name(f.column))
        else:
            value = constants[f.attname] if f.attname in constants else f.get_default()
            report_values.append("%s")
            params.append(f.get_db_prep_save(value, connection))
    history = ProgressReport.history.model
    history_columns, history_values = [], []
    for f in history._meta.concrete_fields:
        if f.primary_key:
            continue
        history_columns.append(connection.ops.quote_name(f.column))
        if f.attname == "history_date":
            history_values.append("%s")
            params.append(now)
        elif f.attname == "history_type":
            history_values.append("'+'")
        elif f.attname == "history_user_id":
            history_values.append("%s")
            params.append(user.pk)
        elif f.attname == "history_change_reason":
            history_values.append("NULL")
        else:
            history_values.append(connection.ops.quote_name(ProgressReport._meta.get_field(f.attname).column))
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE tracking_import_rows (target_id bigint, period_end date, "
            "value numeric(20, 4), qualifier varchar(10), note text) ON COMMIT DROP"
        )
        with cursor.cursor.copy(f"COPY tracking_import_rows ({', '.join(NEW_DRAFT_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f"WITH created AS ("
            f" INSERT INTO {ProgressReport._meta.db_table} ({', '.join(report_columns)})"
            f" SELECT {', '.join(report_values)} FROM tracking_import_rows"
            f" RETURNING *"
            f") INSERT INTO {history._meta.db_table} ({', '.join(history_columns)})"
            f" SELECT {', '.join(history_values)} FROM created",
            params,
        )
        # Dropped now rather than at commit, so that a second import in the
        # same transaction (tests, scripts) can create it again.
        cursor.execute("DROP TABLE tracking_import_rows")

