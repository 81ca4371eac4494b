from django.core.management.base import BaseCommand

from tracking.db import new_etag_epoch


class Command(BaseCommand):
    help = (
        "Start a new ETag epoch, so that no ETag given out before matches again. Run it after restoring a "
        "backup: the restore sets the data version back, and old versions would otherwise name new data."
    )

    def handle(self, *args, **options):
        new_etag_epoch()
        self.stdout.write("new ETag epoch started: every client's next conditional request gets a full answer")
