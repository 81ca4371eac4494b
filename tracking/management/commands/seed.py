import json

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from tracking.models import Programme, Region


def seed_fixtures():
    """Every fixture in fixtures/, regions first because the others refer to them."""
    names = sorted(path.stem for path in settings.FIXTURE_DIRS[0].glob("*.json"))
    names.remove("regions")
    return ["regions", *names]


def already_loaded(name):
    """Whether the regions or the programme a fixture file holds are in the database.

    Loading again would not duplicate anything (natural keys), but it would put
    back the documents' values over edits made since, such as a report that a
    reviewer has returned; so a file that was loaded once is left alone.
    """
    objects = json.loads((settings.FIXTURE_DIRS[0] / f"{name}.json").read_text(encoding="utf-8"))
    regions = [o["pk"] for o in objects if o["model"] == "tracking.region"]
    programmes = [o["fields"] for o in objects if o["model"] == "tracking.programme"]
    if Region.objects.filter(pk__in=regions).count() < len(regions):
        return False
    return all(
        Programme.objects.filter(region=p["region"], year=p["year"], kind=p["kind"]).exists() for p in programmes
    )


class Command(BaseCommand):
    help = (
        "Load the regions and the four union reports' data, skipping files loaded before. "
        "--refresh reloads them all, putting back the documents' values."
    )

    def add_arguments(self, parser):
        parser.add_argument("--refresh", action="store_true", help="reload files that were loaded before")

    def handle(self, *args, **options):
        names = [n for n in seed_fixtures() if options["refresh"] or not already_loaded(n)]
        if not names:
            self.stdout.write("seed data already loaded")
            return
        call_command("loaddata", *names, verbosity=options["verbosity"])
