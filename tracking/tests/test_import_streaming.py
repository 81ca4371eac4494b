"""Issue 14, defect 4: an import file is read as a stream and refused at the row limit, in bounded memory.

benchmarks/import_memory.md has the figures for 20 MB files in a fresh process.
"""

import io
import tracemalloc

import pytest
from openpyxl import Workbook

from tracking.importing import ImportFileError, read_table

HEADER = "地区代码,年度,计划类型,事项序号,指标编号,截至日期,数值,备注\n"
ROW = "320612,2024,annual_plan,4,4.1,2024-06-30,6000,\n"


def upload(content, name):
    file = io.BytesIO(content)
    file.name = name
    file.size = len(content)
    return file


def peak_while(call):
    tracemalloc.start()
    try:
        call()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


def test_a_file_of_many_tiny_lines_is_refused_at_the_limit_without_holding_them(settings):
    settings.TRACKING_IMPORT_MAX_ROWS = 1000
    content = (HEADER + "1\n" * 200_000).encode()  # 0.4 MB, 200,000 rows

    def read():
        with pytest.raises(ImportFileError, match="行数过多"):
            read_table(upload(content, "reports.csv"))

    # Holding the 200,000 rows took about 80 MB; the stream keeps one row at a time.
    assert peak_while(read) < 5 * 1024 * 1024


def test_a_file_at_the_limit_is_read_whole(settings):
    settings.TRACKING_IMPORT_MAX_ROWS = 1000

    rows = read_table(upload((HEADER + ROW * 1000).encode(), "reports.csv"))

    assert len(rows) == 1000 and rows[-1]["value"] == "6000"


def test_a_gb18030_file_is_recognised_though_read_in_chunks():
    content = (HEADER + ROW * 50_000 + "320612,2024,年度计划,4,4.1,2024-07-31,1,高温\n").encode("gb18030")

    rows = read_table(upload(content, "reports.csv"))

    assert rows[-1]["note"] == "高温" and rows[-1]["kind"] == "年度计划"


def test_an_upload_is_left_open_for_the_caller(settings):
    file = upload((HEADER + ROW).encode(), "reports.csv")

    read_table(file)

    assert not file.closed
    file.seek(0)


@pytest.mark.parametrize(("rows", "refused"), [(100, False), (101, True)])
def test_an_xlsx_is_streamed_and_refused_past_the_limit(settings, rows, refused):
    settings.TRACKING_IMPORT_MAX_ROWS = 100
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(HEADER.strip().split(","))
    for _ in range(rows):
        sheet.append(ROW.strip().split(",") + [""])
    buffer = io.BytesIO()
    book.save(buffer)
    file = upload(buffer.getvalue(), "reports.xlsx")

    if refused:
        with pytest.raises(ImportFileError, match="行数过多"):
            read_table(file)
    else:
        assert len(read_table(file)) == 100
