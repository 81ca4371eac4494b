"""Bulk import of progress reports, shared by the admin and the API.

Rows are matched by natural key (region code, programme year and kind, item
number, target code, report date), so importing the same file twice changes
nothing the second time. The whole file is validated before anything is
written, and written in one transaction: one bad row rejects the file.

files: reading CSV and xlsx into rows. cells: one parser per column.
reports: checking rows against the targets and writing the drafts.
"""

from .cells import COLUMNS, parse_date, parse_value
from .files import ImportFileError, read_table
from .reports import ImportResult, RowError, import_reports

__all__ = [
    "COLUMNS", "ImportFileError", "ImportResult", "RowError", "import_reports", "parse_date", "parse_value",
    "read_table",
]
