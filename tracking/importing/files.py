"""Reading an uploaded CSV (UTF-8 or GB18030) or xlsx file into rows keyed by column."""

import csv
import io

from django.conf import settings
from django.utils.translation import gettext as _

from .cells import COLUMNS, HEADER_TO_COLUMN, REQUIRED


class ImportFileError(Exception):
    """The file as a whole cannot be read (HTTP 400)."""


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

