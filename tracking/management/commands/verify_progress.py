from django.core.management.base import BaseCommand, CommandError

from tracking.tallies import repair_tallies, wrong_tallies
from tracking.totals import repair_progress, stale_targets


class Command(BaseCommand):
    help = (
        "Compare every target's stored totals, and every programme tally that claims to hold today, with a "
        "from-scratch computation; --repair fixes them (and recounts expired or missing tallies)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--repair", action="store_true", help="recompute what is found wrong")

    def handle(self, *args, **options):
        if options["repair"]:
            fixed = repair_progress()
            self.stdout.write(f"repaired {len(fixed)} target(s): {fixed[:50]}")
            wrong, recounted = repair_tallies()
            self.stdout.write(
                f"repaired {len(wrong)} wrong programme tally(ies): {wrong[:50]}; recounted or created {recounted} in all"
            )
            return
        stale, wrong = stale_targets(), wrong_tallies()
        if stale or wrong:
            raise CommandError(
                f"{len(stale)} target(s) disagree with their reports: {stale[:50]}; "
                f"{len(wrong)} programme tally(ies) disagree with their targets: {wrong[:50]}"
            )
        self.stdout.write("all stored totals and current programme tallies agree with the approved reports")
