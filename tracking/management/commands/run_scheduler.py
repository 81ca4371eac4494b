"""manage.py run_scheduler: the compose `scheduler` service; runs the daily jobs at their times, forever.

APScheduler's BlockingScheduler with cron triggers, in one process: no
broker, no worker pool. Jobs are kept in memory, which is enough because
both jobs are safe to run again (send_reminders sends nothing twice,
recount_tallies recounts what expired); a job missed while the container
was down runs once when it comes back within the grace time.
"""

import datetime
import logging

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import close_old_connections

log = logging.getLogger("tracking.scheduler")


def job(command):
    def run():
        # A long-lived process: never reuse a connection the database has dropped.
        close_old_connections()
        try:
            call_command(command)
        except Exception:
            log.exception("scheduled %s failed", command)
        finally:
            close_old_connections()

    run.__name__ = command
    return run


class Command(BaseCommand):
    help = (
        "定时任务进程（compose 的 scheduler 服务）：每天 TRACKING_REMINDER_TIME 运行 send_reminders，"
        "每天 00:10 运行 recount_tallies。不用 Docker 时可改用 cron，见 README。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--list", action="store_true", help="只列出任务及下次运行时间，不运行")

    def handle(self, *args, list=False, **options):
        scheduler = BlockingScheduler(timezone=settings.TIME_ZONE)
        hour, minute = settings.TRACKING_REMINDER_TIME
        for command, trigger in (
            ("send_reminders", CronTrigger(hour=hour, minute=minute, timezone=settings.TIME_ZONE)),
            ("recount_tallies", CronTrigger(hour=0, minute=10, timezone=settings.TIME_ZONE)),
        ):
            scheduler.add_job(job(command), trigger, id=command, coalesce=True, max_instances=1,
                              misfire_grace_time=6 * 3600)
        if list:
            now = datetime.datetime.now(scheduler.timezone)
            for scheduled in scheduler.get_jobs():
                self.stdout.write(f"{scheduled.id}: {scheduled.trigger.get_next_fire_time(None, now):%Y-%m-%d %H:%M %Z}")
            return
        self.stdout.write(f"scheduler: send_reminders daily at {hour:02d}:{minute:02d}, recount_tallies at 00:10")
        scheduler.start()
