"""manage.py send_reminders [--date YYYY-MM-DD]: today's reminders, escalations and progress alerts."""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from tracking import locks
from tracking.followup import reminders


class Command(BaseCommand):
    help = (
        "发送今天的报送提醒、逾期催办（逾期较久时抄送上级审核员）和进度滞后提醒：每人每个渠道一份汇总。"
        "重复运行或同时运行不会重复发送；上次发送失败的消息会重试。每天运行一次（cron 或 compose 的 scheduler 服务）。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", help="按这一天运行（YYYY-MM-DD），默认今天；用于补发或演练")

    def handle(self, *args, date=None, **options):
        today = timezone.localdate()
        if date:
            try:
                today = datetime.date.fromisoformat(date)
            except ValueError:
                raise CommandError(f"--date 应为 YYYY-MM-DD，而不是 {date!r}") from None
        # Every message is stored once and sent once whatever runs at the same time (reminders.store and
        # deliver); the lock in the shared cache only spares a second node the work of composing them.
        with locks.held("send_reminders", seconds=3600) as taken:
            if not taken:
                self.stdout.write("另一个进程正在发送提醒，本次跳过")
                return
            counts = reminders.run(today=today)
        self.stdout.write(
            f"{today}：{counts['digests']} 份汇总，已发送 {counts['sent']} 条，失败 {counts['failed']} 条（下次运行时重试）"
        )
