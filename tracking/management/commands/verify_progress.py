from django.core.management.base import BaseCommand, CommandError

from tracking.months import repair_months, wrong_months
from tracking.tallies import repair_tallies, wrong_tallies
from tracking.totals import repair_progress, stale_targets


class Command(BaseCommand):
    help = (
        "Compare every target's stored totals, every programme tally that claims to hold today, and every "
        "programme's monthly report counts (the completeness grid's) with a from-scratch computation; --repair "
        "fixes them (and recounts expired or missing tallies)."
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
            months = repair_months()
            self.stdout.write(f"repaired the months of {len(months)} programme(s): {months[:50]}")
            return
        stale, wrong, months = stale_targets(), wrong_tallies(), wrong_months()
        if stale or wrong or months:
            raise CommandError(
                f"{len(stale)} target(s) disagree with their reports: {stale[:50]}; "
                f"{len(wrong)} programme tally(ies) disagree with their targets: {wrong[:50]}; "
                f"{len(months)} programme(s)' months disagree with their reports: {months[:50]}"
            )
        self.stdout.write(
            "all stored totals, current programme tallies and programme months agree with the reports"
        )
