"""Bulk import of progress reports, shared by the admin and the API.

Rows are matched by natural key (region code, programme year and kind, item
number, target code, report date), so importing the same file twice changes
nothing the second time. The whole file is validated before anything is
written, and written in one transaction: one bad row rejects the file.
"""

import csv
import datetime
import io
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from .models import VALUE_FIELD, Membership, Programme, ProgressReport, Region, Target, lock, role_of
from .numbers import EXACT, parse_number

# Canonical column → accepted headers. The first alias is the header used by
# exports and templates, so a downloaded file imports back unchanged.
COLUMNS = {
    "region": ("地区代码", "region", "行政区划代码"),
    "year": ("年度", "year"),
    "kind": ("计划类型", "kind"),
    "item": ("事项序号", "item", "item_number"),
    "target": ("指标编号", "target", "target_code", "code"),
    "period_end": ("截至日期", "period_end", "date"),
    "value": ("数值", "value"),
    "qualifier": ("限定", "qualifier"),
    "note": ("备注", "note"),
}
REQUIRED = ("region", "year", "kind", "item", "target", "period_end", "value")
HEADER_TO_COLUMN = {alias.lower(): column for column, aliases in COLUMNS.items() for alias in aliases}
KINDS = {**{k: k for k in Programme.Kind.values}, **{str(label): k for k, label in Programme.Kind.choices}}
QUALIFIERS = {
    **{k: k for k in ProgressReport.Qualifier.values},
    **{str(label): k for k, label in ProgressReport.Qualifier.choices},
    "": ProgressReport.Qualifier.EXACT,
}
MAX_NOTE = ProgressReport._meta.get_field("note").max_length
INTEGER_DIGITS = VALUE_FIELD["max_digits"] - VALUE_FIELD["decimal_places"]


class ImportFileError(Exception):
    """The file as a whole cannot be read (HTTP 400)."""


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


# --- Reading files -------------------------------------------------------------


def read_table(uploaded_file):
    """Rows of a CSV (UTF-8 with or without BOM, or GB18030) or xlsx file, as dicts keyed by column."""
    name = (getattr(uploaded_file, "name", "") or "").lower()
    # One byte more than allowed is enough to refuse, without holding a huge upload in memory.
    data = uploaded_file.read(settings.TRACKING_IMPORT_MAX_BYTES + 1)
    if len(data) > settings.TRACKING_IMPORT_MAX_BYTES:
        raise ImportFileError(
            _("文件过大（上限 %(mb)d MB）") % {"mb": settings.TRACKING_IMPORT_MAX_BYTES // (1024 * 1024)}
        )
    if data[:4] == b"PK\x03\x04" or name.endswith(".xlsx"):
        header, body = _xlsx_rows(data)
    elif name.endswith((".csv", ".txt")) or not name:
        header, body = _csv_rows(data)
    else:
        raise ImportFileError(_("仅支持 CSV 或 Excel (.xlsx) 文件"))
    columns = _columns(header)
    rows = []
    for cells in body:
        if not any(str(c).strip() for c in cells if c is not None):
            continue
        if len(cells) > len(header) and any(str(c).strip() for c in cells[len(header):] if c is not None):
            raise ImportFileError(_("第 %(row)d 行的列数多于表头") % {"row": len(rows) + 2})
        rows.append({column: cells[i] if i < len(cells) else "" for i, column in columns.items()})
    if len(rows) > settings.TRACKING_IMPORT_MAX_ROWS:
        raise ImportFileError(_("行数过多（上限 %(n)d 行）") % {"n": settings.TRACKING_IMPORT_MAX_ROWS})
    return rows


def _csv_rows(data):
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportFileError(_("无法识别文件编码，请另存为 UTF-8 或 GB18030 编码的 CSV"))
    if "\x00" in text:
        raise ImportFileError(_("文件含有非法字符（NUL），请检查文件格式"))
    try:
        lines = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as error:
        raise ImportFileError(_("CSV 格式错误：%(error)s") % {"error": error}) from None
    if not lines:
        raise ImportFileError(_("文件为空"))
    return lines[0], lines[1:]


def _xlsx_rows(data):
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        sheet = book.worksheets[0]
        lines = [list(row) for row in sheet.iter_rows(values_only=True)]
    except Exception:  # openpyxl raises many unrelated types for a corrupt file
        raise ImportFileError(_("无法读取 Excel 文件，请确认为 .xlsx 格式")) from None
    if not lines:
        raise ImportFileError(_("文件为空"))
    return [("" if c is None else str(c)) for c in lines[0]], lines[1:]


def _columns(header):
    columns = {}
    for index, title in enumerate(header):
        column = HEADER_TO_COLUMN.get(str(title).strip().lstrip("\ufeff").lower())
        if column and column not in columns.values():
            columns[index] = column
    missing = [COLUMNS[c][0] for c in REQUIRED if c not in columns.values()]
    if missing:
        raise ImportFileError(
            _("表头缺少必需的列：%(columns)s（表头不能有合并单元格）") % {"columns": "、".join(missing)}
        )
    return columns


# --- Parsing cells ---------------------------------------------------------------


def _text(value):
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    # ASCII is already in NFKC form; most cells are, and normalising is the costly part.
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    text = text.strip()
    if "\x00" in text:
        raise ValueError(_("含有非法字符"))
    if text.startswith("="):
        raise ValueError(_("不接受公式，请粘贴为数值"))
    return text


def parse_value(value):
    """A non-negative decimal. Accepts "12,000" and full-width "１２０００" as 12000."""
    text = _text(value).replace(",", "").replace("，", "")
    if not text:
        raise ValueError(_("数值不能为空"))
    try:
        number = Decimal(text)
    except InvalidOperation:
        number = _written_number(text)
    if not number.is_finite():
        raise ValueError(_("“%(text)s”不是有效的数字") % {"text": text[:20]})
    if number < 0:
        raise ValueError(_("数值不能为负数"))
    if number.adjusted() >= INTEGER_DIGITS:
        raise ValueError(_("数值过大"))
    if number != number.quantize(Decimal(1).scaleb(-VALUE_FIELD["decimal_places"]), rounding="ROUND_HALF_UP"):
        raise ValueError(_("小数位数不能超过 %(n)d 位") % {"n": VALUE_FIELD["decimal_places"]})
    return number


def _written_number(text):
    """A number as a clerk writes it (1.2万, 一千二百), by the parser the extractor uses too.

    A qualifier written into the value (3千余, 约400) is refused rather than
    dropped: the report has its own qualifier, which the clerk should set.
    """
    if text[:1] in "-−":
        raise ValueError(_("数值不能为负数"))
    try:
        number = parse_number(text)
    except ValueError:
        raise ValueError(_("“%(text)s”不是有效的数字") % {"text": text[:20]}) from None
    if number.qualifier != EXACT:
        raise ValueError(
            _("“%(text)s”含有“余、多、约、以上”等限定词，请只填数值，并在“限定”中选择") % {"text": text[:20]}
        )
    return number.value


def parse_date(value):
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = _text(value)
    if len(text) == 10 and text[4] == text[7] == "-" and text[:4].isdigit() and text[5:7].isdigit() and text[8:].isdigit():
        # The common 2024-06-30, without strptime's cost; it gives the same date.
        try:
            return datetime.date(int(text[:4]), int(text[5:7]), int(text[8:]))
        except ValueError:
            pass
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日"):
        try:
            return datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(_("“%(text)s”不是有效的日期，请使用 2024-06-30 格式") % {"text": text[:20]})


def _int(value, message):
    text = _text(value)
    if not text.isdigit() or len(text) > 9:
        raise ValueError(message)
    return int(text)


def _choice(value, choices, message):
    text = _text(value)
    if text not in choices:
        raise ValueError(message % {"value": text[:20]})
    return choices[text]


def _region(value):
    text = _text(value)
    if not (text.isdigit() and len(text) == 6):
        raise ValueError(_("地区代码应为6位数字"))
    return text


def _code(value):
    text = _text(value)
    if not text or len(text) > 20:
        raise ValueError(_("指标编号不能为空，且不超过20个字符"))
    return text


def _note(value):
    text = _text(value)
    if len(text) > MAX_NOTE:
        raise ValueError(_("备注不能超过 %(n)d 个字") % {"n": MAX_NOTE})
    return text


# Lazy, so that a message is translated when a row fails rather than for every cell.
YEAR_MESSAGE = gettext_lazy("年度应为整数，例如 2024")
KIND_MESSAGE = gettext_lazy("未知的计划类型“%(value)s”")
ITEM_MESSAGE = gettext_lazy("事项序号应为正整数")
QUALIFIER_MESSAGE = gettext_lazy("未知的限定“%(value)s”")

PARSERS = {
    "region": _region,
    "year": lambda v: _int(v, YEAR_MESSAGE),
    "kind": lambda v: _choice(v, KINDS, KIND_MESSAGE),
    "item": lambda v: _int(v, ITEM_MESSAGE),
    "target": _code,
    "period_end": parse_date,
    "value": parse_value,
    "qualifier": lambda v: _choice(v, QUALIFIERS, QUALIFIER_MESSAGE),
    "note": _note,
}


@dataclass(slots=True)
class _Row:
    number: int
    key: tuple  # (region, year, kind, target code)
    item: int
    period_end: datetime.date
    value: Decimal
    qualifier: str
    note: str


def _parse(number, raw, errors):
    """One row's cells, or None after recording its errors."""
    if not isinstance(raw, dict):
        errors.append(RowError(number, "", _("每一行应为一个对象")))
        return None
    cells, problems = {}, []
    for column, parse in PARSERS.items():
        try:
            cells[column] = parse(raw.get(column))
        except ValueError as error:
            problems.append(RowError(number, column, str(error)))
    if problems:
        errors.extend(problems)
        return None
    key = (cells["region"], cells["year"], cells["kind"], cells["target"])
    return _Row(number, key, cells["item"], cells["period_end"], cells["value"], cells["qualifier"], cells["note"])


# --- Importing ---------------------------------------------------------------------


def import_reports(*, user, rows, dry_run, first_row=2):
    """Validate every row, then create or update drafts in one transaction.

    first_row is the number shown for rows[0] in error messages: 2 for files,
    whose first line is the header, 1 for JSON lists.
    """
    if not (user.is_superuser or role_of(user) in (Membership.Role.REPORTER, Membership.Role.MANAGER)):
        raise PermissionDenied(_("只有填报员或管理员可以导入填报"))
    result = ImportResult(dry_run=dry_run)
    parsed = [_parse(first_row + i, raw, result.errors) for i, raw in enumerate(rows)]
    parsed = [row for row in parsed if row is not None]

    targets = _targets_for(parsed)
    visible = set(Region.objects.visible_to(user).values_list("code", flat=True))
    known_regions = set(Region.objects.filter(code__any={r.key[0] for r in parsed}).values_list("code", flat=True))
    today = timezone.localdate()
    seen = {}
    matched = []
    for row in parsed:
        error = _check(row, targets, visible, known_regions, today, seen)
        if error:
            result.errors.append(error)
        else:
            matched.append((row, targets[row.key]))
    if not rows:
        result.errors.append(RowError(first_row, "", _("文件中没有数据行")))
    if result.errors:
        result.errors.sort(key=lambda e: e.row)
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
    result.errors.sort(key=lambda e: e.row)
    return result


@dataclass(slots=True)
class _Target:
    """What checking a row needs of its target: a row of values, not three model instances,
    because a national file refers to tens of thousands of targets."""

    pk: int
    item_number: int
    period_start: datetime.date
    period_end: datetime.date


def _targets_for(parsed):
    """Every target the rows may refer to, in one query, keyed by natural key."""
    regions = {r.key[0] for r in parsed}
    years = {r.key[1] for r in parsed}
    if not parsed:
        return {}
    rows = Target.objects.filter(programme__region__any=regions, programme__year__any=years).values_list(
        "programme__region", "programme__year", "programme__kind", "code",
        "pk", "item__number", "programme__period_start", "programme__period_end",
    )
    return {(region, year, kind, code): _Target(*rest) for region, year, kind, code, *rest in rows.iterator(2000)}


def _check(row, targets, visible, known_regions, today, seen):
    region, year, kind, code = row.key
    if region not in known_regions:
        return RowError(row.number, "region", _("未知的地区代码 %(code)s") % {"code": region})
    if region not in visible:
        return RowError(row.number, "region", _("无权填报其他地区（%(code)s）的数据") % {"code": region})
    target = targets.get(row.key)
    if target is None:
        return RowError(
            row.number, "target", _("未找到指标：%(year)s 年%(kind)s 的 %(code)s")
            % {"year": year, "kind": Programme.Kind(kind).label, "code": code}
        )
    if target.item_number != row.item:
        return RowError(
            row.number, "item", _("指标 %(code)s 属于事项 %(right)d，而不是 %(wrong)d")
            % {"code": code, "right": target.item_number, "wrong": row.item}
        )
    if not target.period_start <= row.period_end <= target.period_end:
        return RowError(
            row.number, "period_end", _("日期 %(date)s 不在计划期间 %(start)s 至 %(end)s 内")
            % {"date": row.period_end, "start": target.period_start, "end": target.period_end}
        )
    if row.period_end > today:
        return RowError(row.number, "period_end", _("截至日期不能晚于今天"))
    natural_key = (target.pk, row.period_end)
    if natural_key in seen:
        return RowError(row.number, "", _("与第 %(row)d 行重复") % {"row": seen[natural_key]})
    seen[natural_key] = row.number
    return None


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
    for row, target in matched:
        report = existing.get((target.pk, row.period_end))
        if report is None:
            to_create.append((target.pk, row.period_end, row.value, row.qualifier, row.note))
            continue
        if (report.value, report.qualifier, report.note) == (row.value, row.qualifier, row.note):
            result.unchanged += 1
            continue
        if not report.is_editable:
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
