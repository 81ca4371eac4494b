from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


def seed_fixtures():
    """Every fixture in fixtures/, regions first because the others refer to them."""
    names = sorted(path.stem for path in settings.FIXTURE_DIRS[0].glob("*.json"))
    names.remove("regions")
    return ["regions", *names]


class Command(BaseCommand):
    help = "Load the regions and the four union reports' data. Safe to run again: natural keys prevent duplicates."

    def handle(self, *args, **options):
        call_command("loaddata", *seed_fixtures(), verbosity=options["verbosity"])
