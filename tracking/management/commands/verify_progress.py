from django.core.management.base import BaseCommand, CommandError

from tracking.services import repair_progress, stale_targets


class Command(BaseCommand):
    help = "Compare every target's stored totals with a from-scratch computation from its reports; --repair fixes them."

    def add_arguments(self, parser):
        parser.add_argument("--repair", action="store_true", help="recompute the targets found wrong")

    def handle(self, *args, **options):
        if options["repair"]:
            fixed = repair_progress()
            self.stdout.write(f"repaired {len(fixed)} target(s): {fixed[:50]}")
            return
        stale = stale_targets()
        if stale:
            raise CommandError(f"{len(stale)} target(s) disagree with their reports: {stale[:50]}")
        self.stdout.write("all stored totals agree with the approved reports")
