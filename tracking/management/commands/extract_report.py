import datetime
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tracking.extraction import TextRefused, extract
from tracking.extraction.fixture import default_period, draft_objects
from tracking.models import Programme


def date(text):
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"日期“{text}”无效，请使用 2024-12-31 格式") from None


class Command(BaseCommand):
    help = (
        "Read a union report (UTF-8 or GB18030 text) and write a fixture in the format of fixtures/: "
        "the programme, its items and targets, and a draft report per figure. Nothing is loaded; "
        "check the file, then `manage.py loaddata` it."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the report as plain text")
        parser.add_argument("--region", required=True, help="6-digit region code, e.g. 320612")
        parser.add_argument("--kind", required=True, choices=Programme.Kind.values)
        parser.add_argument("--year", required=True, type=int, help="the last year the document covers")
        parser.add_argument("--period-start", type=date, help="default: 1 January of the year (a review: four years before)")
        parser.add_argument("--period-end", type=date, help="default: 31 December of the year")
        parser.add_argument("--output", help="write here instead of standard output")

    def handle(self, *args, file, region, kind, year, period_start, period_end, output, **options):
        if not (region.isdigit() and len(region) == 6):
            raise CommandError("地区代码应为6位数字")
        path = Path(file)
        try:
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(f"无法读取文件：{error}") from None
        text = decode(data)
        try:
            proposal = extract(text, kind)
        except TextRefused as refusal:
            raise CommandError(str(refusal)) from None
        start, end = default_period(kind, year)
        start, end = period_start or start, period_end or end
        if start > end or end.year != year:
            raise CommandError("期间无效：起始日期不能晚于截止日期，且截止日期应在所给年度内")
        objects = draft_objects(proposal, region=region, year=year, period_start=start, period_end=end,
                                source_document=path.name)
        rendered = json.dumps(objects, ensure_ascii=False, indent=1) + "\n"
        if output:
            Path(output).write_text(rendered, encoding="utf-8")
        else:
            self.stdout.write(rendered, ending="")
        figures = sum(o["model"] == "tracking.target" for o in objects)
        self.stderr.write(f"{figures} 个指标，{len(proposal.flags)} 处需人工核对")
        for flag in proposal.flags:
            self.stderr.write(f"  · {flag.message}")


def decode(data):
    if b"\x00" in data[:4096]:
        raise CommandError("文件不是文本（可能是二进制文件）")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise CommandError("无法识别文件编码，请另存为 UTF-8 或 GB18030 文本")
