import statistics
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from tracking.extraction import extract
from tracking.extraction.evaluation import fixture_gold, score, timed_extract, unseen_gold

UNSEEN = Path(settings.BASE_DIR) / "tracking" / "tests" / "unseen"
SPEED_CHARACTERS = 10_000
SPEED_RUNS = 5


class Command(BaseCommand):
    help = (
        "Measure the extractor against the figures taken by hand: the four seeds/ documents against "
        "today's fixtures, and the unseen-style reports in tracking/tests/unseen/. Prints recall, "
        "precision, value and qualifier accuracy per document and overall, and the time for 10,000 characters."
    )

    def add_arguments(self, parser):
        parser.add_argument("--details", action="store_true", help="list every missed and every spurious figure")

    def handle(self, *args, details=False, **options):
        development = self.development_set()
        self.table("开发集（seeds/ 对照 fixtures/）", development, details)
        unseen = self.unseen_set()
        self.table("自拟的未见过风格文档（tracking/tests/unseen/）", unseen, details)
        self.speed()

    def development_set(self):
        scores = []
        fixtures = sorted(p for p in Path(settings.FIXTURE_DIRS[0]).glob("*.json") if p.stem != "regions")
        for path in fixtures:
            document, kind, gold = fixture_gold(path)
            text = (Path(settings.BASE_DIR) / "seeds" / document).read_text(encoding="utf-8")
            if kind == "annual_plan":
                scores.append(self.embedded_plan(path.stem, document, text, gold))
                continue
            proposal, seconds = timed_extract(text, kind)
            scores.append(score(f"{path.stem} ({document[:3]})", text, gold, proposal, seconds))
        return scores

    def embedded_plan(self, name, document, text, gold):
        """A plan printed as a damaged table inside a report: the report flags it, its section is read as a plan."""
        report = extract(text, "annual_report")
        flag = next(f for f in report.flags if f.kind == "scrambled_table")
        section = next(item for item in report.items if item.start <= flag.start < item.end)
        part = text[section.start:]
        proposal, seconds = timed_extract(part, "annual_plan")
        return score(f"{name} ({document[:3]} 表格)", part, gold, proposal, seconds)

    def unseen_set(self):
        scores = []
        for path in sorted(UNSEEN.glob("*.json")):
            kind, gold = unseen_gold(path)
            text = path.with_suffix(".txt").read_text(encoding="utf-8")
            proposal, seconds = timed_extract(text, kind)
            scores.append(score(path.stem, text, gold, proposal, seconds))
        return scores

    def table(self, title, scores, details):
        self.stdout.write(f"\n{title}\n")
        self.stdout.write("| 文档 | 人工 | 提出 | 正确 | 召回率 | 精确率 | 数值准确率 | 限定词准确率 | 字数 | 毫秒 |")
        self.stdout.write("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        total = None
        for s in scores:
            self.row(s)
            total = s if total is None else total + s
        self.row(total)
        if details:
            for s in scores:
                for gold in s.missed:
                    self.stdout.write(f"  漏 {s.name}: {gold.value} «{gold.quote}»")
                for figure in s.spurious:
                    self.stdout.write(f"  多 {s.name}: {figure.value} «{figure.quote}»")

    def row(self, s):
        self.stdout.write(
            f"| {s.name} | {s.gold} | {s.proposed} | {s.correct} | {s.recall:.1%} | {s.precision:.1%} | "
            f"{s.value_accuracy:.1%} | {s.qualifier_accuracy:.1%} | {s.characters} | {s.seconds * 1000:.1f} |"
        )

    def speed(self):
        seeds = sorted((Path(settings.BASE_DIR) / "seeds").glob("*.txt"))
        text = "\n\n".join(p.read_text(encoding="utf-8") for p in seeds)[:SPEED_CHARACTERS]
        runs = []
        for _ in range(SPEED_RUNS):
            started = time.perf_counter()
            extract(text, "annual_report")
            runs.append(time.perf_counter() - started)
        self.stdout.write(
            f"\n速度：{len(text)} 字，{SPEED_RUNS} 次中位数 {statistics.median(runs) * 1000:.1f} 毫秒，"
            f"最慢 {max(runs) * 1000:.1f} 毫秒（目标 ≤ 1000 毫秒）"
        )
