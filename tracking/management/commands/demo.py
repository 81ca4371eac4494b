import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Local trial: migrate, load the seed data, create a demo superuser and serve on 127.0.0.1:8000."

    def add_arguments(self, parser):
        parser.add_argument("--no-serve", action="store_true", help="prepare the database but do not start the server")
        parser.add_argument("--addrport", default="127.0.0.1:8000")

    def handle(self, *args, **options):
        if not settings.LOCAL_MODE:
            raise CommandError("demo 仅用于本地试用（LOCAL_MODE=true）。The demo command only runs in local mode.")
        call_command("migrate", verbosity=0)
        call_command("seed", verbosity=1)
        password = secrets.token_urlsafe(12)
        User = get_user_model()
        user, _ = User.objects.get_or_create(username="demo", defaults={"email": "demo@example.invalid"})
        user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()
        self.stdout.write(self.style.SUCCESS(f"管理后台 admin: http://{options['addrport']}/admin/  用户 user: demo  密码 password: {password}"))
        if not options["no_serve"]:
            call_command("runserver", options["addrport"], use_reloader=False)
