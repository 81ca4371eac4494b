"""Peak memory growth of reading an import file (tracking.importing.read_table), each case in a fresh process.

    .venv/bin/python benchmarks/import_memory.py            # this checkout's reader
    .venv/bin/python benchmarks/import_memory.py --module old_files.py   # another version of files.py

Each case's file is written to a temporary directory first; a child process
then sets Django up, notes its peak RSS (resource.getrusage), reads the file
as an upload (a TemporaryUploadedFile, as Django hands over anything over
2.5 MB) and notes the peak again. The growth is the difference. Results go to
benchmarks/import_memory.md by hand.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MB = 1024 * 1024
HEADER = "地区代码,年度,计划类型,事项序号,指标编号,指标名称,截至日期,数值,限定,备注\n"
ROW = "320612,2024,年度计划,4,4.1,送清凉,2024-06-30,6000,精确,第一批送清凉慰问\n"


def write_csv(path, line, size):
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write(HEADER)
        block = line * (MB // len(line.encode()))
        while out.tell() < size - len(block.encode()):
            out.write(block)
    return os.path.getsize(path)


def write_csv_rows(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write(HEADER)
        out.write(ROW * rows)
    return os.path.getsize(path)


def write_xlsx(path, rows):
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(HEADER.strip().split(","))
    cells = ROW.strip().split(",")
    for _ in range(rows):
        sheet.append(cells)
    book.save(path)
    return os.path.getsize(path)


CHILD = r"""
import json, os, resource, sys, time, importlib.util
sys.path.insert(0, {root!r})
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
import django
django.setup()
from django.core.files.uploadedfile import TemporaryUploadedFile
import tracking.importing.files as files
if {module!r}:
    spec = importlib.util.spec_from_file_location("tracking.importing.old_files", {module!r})
    files = importlib.util.module_from_spec(spec); spec.loader.exec_module(files)
upload = TemporaryUploadedFile({name!r}, "application/octet-stream", os.path.getsize({path!r}), None)
upload.file.close()
upload.file = open({path!r}, "rb")
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
try:
    rows = files.read_table(upload)
    outcome = "read %d rows" % len(rows)
except files.ImportFileError as error:
    outcome = "refused: %s" % error
seconds = time.perf_counter() - start
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"growth_mb": (after - before) / 1024, "seconds": seconds, "outcome": outcome}}, ensure_ascii=False))
"""


def measure(path, name, module):
    code = CHILD.format(root=ROOT, module=module and os.path.abspath(module), name=name, path=path)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--module", help="a files.py to measure instead of this checkout's")
    parser.add_argument("--skip-xlsx", action="store_true")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        cases = [
            ("20 MB CSV, header + '1' lines (the attack)", "ones.csv", lambda p: write_csv(p, "1\n", 20 * MB)),
            ("20 MB CSV of full rows (over the row limit)", "full.csv", lambda p: write_csv(p, ROW, 20 * MB)),
            ("CSV of 200,000 full rows (at the limit)", "limit.csv", lambda p: write_csv_rows(p, 200_000)),
        ]
        if not options.skip_xlsx:
            cases.append(("xlsx of 250,000 full rows (over the limit)", "over.xlsx", lambda p: write_xlsx(p, 250_000)))
        for title, name, write in cases:
            path = os.path.join(folder, name)
            started = time.perf_counter()
            size = write(path)
            written = time.perf_counter() - started
            figures = measure(path, name, options.module)
            print(f"| {title} | {size / MB:.1f} MB | {figures['growth_mb']:.0f} MB | {figures['seconds']:.1f} s | "
                  f"{figures['outcome']} |  (written in {written:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
