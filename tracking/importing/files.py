"""Reading an uploaded CSV (UTF-8 or GB18030) or xlsx file into rows keyed by column.

The file is read as a stream, twice: once to count its rows (nothing kept),
refusing it as soon as it has more than TRACKING_IMPORT_MAX_ROWS, and once
to build the rows. A file of millions of tiny lines is refused without ever
holding them (benchmarks/import_memory.md measures it).
"""

import codecs
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
    file = _within_size(uploaded_file)
    start = file.read(4)
    file.seek(0)
    if start == b"PK\x03\x04" or name.endswith(".xlsx"):
        table = XlsxTable(file)
    elif name.endswith((".csv", ".txt")) or not name:
        table = CsvTable(file)
    else:
        raise ImportFileError(_("仅支持 CSV 或 Excel (.xlsx) 文件"))
    try:
        header, body = table.rows()
        columns = _columns(header)
        counted, limit = 0, settings.TRACKING_IMPORT_MAX_ROWS
        for cells in body:
            counted += _filled(cells)
            if counted > limit:
                # Refused here, one row past the limit, whatever the length of the rest.
                raise ImportFileError(_("行数过多（上限 %(n)d 行）") % {"n": limit})
        header, body = table.rows()
        return _keyed(header, body, columns)
    finally:
        table.close()


def _within_size(uploaded_file):
    """The upload as a seekable binary file, refused when over TRACKING_IMPORT_MAX_BYTES."""
    limit = settings.TRACKING_IMPORT_MAX_BYTES
    too_big = ImportFileError(_("文件过大（上限 %(mb)d MB）") % {"mb": limit // (1024 * 1024)})
    size = getattr(uploaded_file, "size", None)
    if size is not None and hasattr(uploaded_file, "seek"):
        if size > limit:
            raise too_big
        uploaded_file.seek(0)
        return uploaded_file
    # One byte more than allowed is enough to refuse, without holding a huge upload in memory.
    data = uploaded_file.read(limit + 1)
    if len(data) > limit:
        raise too_big
    return io.BytesIO(data)


def _filled(cells):
    return any(str(c).strip() for c in cells if c is not None)


# Cells up to this length are kept once per distinct text: region codes, years, kinds,
# item numbers, target codes, dates and qualifiers repeat on every row.
SHARED_CELL = 20


def _keyed(header, body, columns):
    rows, shared = [], {}
    for cells in body:
        if not _filled(cells):
            continue
        if len(cells) > len(header) and _filled(cells[len(header):]):
            raise ImportFileError(_("第 %(row)d 行的列数多于表头") % {"row": len(rows) + 2})
        row = {}
        for i, column in columns.items():
            cell = cells[i] if i < len(cells) else ""
            if isinstance(cell, str) and len(cell) <= SHARED_CELL:
                cell = shared.setdefault(cell, cell)
            row[column] = cell
        rows.append(row)
    return rows


class CsvTable:
    """A CSV file's header and rows, decoded as it is read: UTF-8 (with or without BOM), else GB18030."""

    def __init__(self, file):
        self.file = file
        self.encoding = None
        self._text = None

    def rows(self):
        if self.encoding is None:
            self.encoding = self._encoding()
        return self._read(self.encoding)

    def _encoding(self):
        # UTF-8 unless some byte sequence is not: a decoding pass in chunks, nothing kept.
        self.file.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := self.file.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
            return "utf-8-sig"
        except UnicodeDecodeError:
            pass
        self.file.seek(0)
        decoder = codecs.getincrementaldecoder("gb18030")()
        try:
            while chunk := self.file.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
            return "gb18030"
        except UnicodeDecodeError:
            raise ImportFileError(_("无法识别文件编码，请另存为 UTF-8 或 GB18030 编码的 CSV")) from None

    def _read(self, encoding):
        self.close()  # the previous pass's wrapper, detached before it is dropped
        self.file.seek(0)
        text = io.TextIOWrapper(self.file, encoding=encoding, newline="")
        self._text = text
        reader = csv.reader(_without_nul(text), strict=True)
        try:
            header = next(reader)
        except StopIteration:
            raise ImportFileError(_("文件为空")) from None
        except csv.Error as error:
            raise ImportFileError(_("CSV 格式错误：%(error)s") % {"error": error}) from None
        return header, _csv_body(reader)

    def close(self):
        text = self._text
        if text is not None:
            # The wrapper would close the upload with it; the caller owns the upload.
            text.detach()
            self._text = None


def _without_nul(lines):
    for line in lines:
        if "\x00" in line:
            raise ImportFileError(_("文件含有非法字符（NUL），请检查文件格式"))
        yield line


def _csv_body(reader):
    try:
        yield from reader
    except csv.Error as error:
        raise ImportFileError(_("CSV 格式错误：%(error)s") % {"error": error}) from None


class XlsxTable:
    """The first sheet of an xlsx file, streamed by openpyxl's read-only mode (rows are parsed as read)."""

    def __init__(self, file):
        from openpyxl import load_workbook

        try:
            self.book = load_workbook(file, read_only=True, data_only=False)
            self.sheet = self.book.worksheets[0]
        except Exception:  # openpyxl raises many unrelated types for a corrupt file
            raise ImportFileError(_("无法读取 Excel 文件，请确认为 .xlsx 格式")) from None

    def rows(self):
        body = self._body()
        try:
            first = next(body)
        except StopIteration:
            raise ImportFileError(_("文件为空")) from None
        return [("" if c is None else str(c)) for c in first], body

    def _body(self):
        try:
            for row in self.sheet.iter_rows(values_only=True):
                yield list(row)
        except ImportFileError:
            raise
        except Exception:
            raise ImportFileError(_("无法读取 Excel 文件，请确认为 .xlsx 格式")) from None

    def close(self):
        self.book.close()


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
