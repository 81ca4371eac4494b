import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from tracking.access import grant_role
from tracking.sample_plan import load_sample_plan

# The accounts a visitor tries the workflow with: a Tongzhou clerk and the Nantong reviewer above it.
ACCOUNTS = [
    ("demo_reporter", "320612", "reporter", "通州区 填报员 reporter"),
    ("demo_reviewer", "320600", "reviewer", "南通市 审核员 reviewer"),
]


class Command(BaseCommand):
    help = (
        "本地试用：迁移数据库，载入文件数据和今年的演示计划，创建演示账号，并在 ADDRPORT（默认 127.0.0.1:8000）启动服务。"
        " Local trial: migrate, load the seed data and this year's demo plan, create demo accounts and serve."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "addrport", nargs="?", default="127.0.0.1:8000",
            help="address and port to serve on, as for runserver, e.g. 0.0.0.0:8000 (default 127.0.0.1:8000)",
        )
        parser.add_argument("--no-serve", action="store_true", help="prepare the database but do not start the server")

    def handle(self, *args, addrport, **options):
        if not settings.LOCAL_MODE:
            raise CommandError("demo 仅用于本地试用（LOCAL_MODE=true）。The demo command only runs in local mode.")
        call_command("migrate", verbosity=0)
        call_command("seed", verbosity=1)
        logins = [("demo", self.superuser(), "超级用户 superuser")]
        with transaction.atomic():
            for username, region, role, label in ACCOUNTS:
                password = secrets.token_urlsafe(12)
                grant_role(username=username, region_code=region, role=role, password=password)
                logins.append((username, password, label))
            users = {username: get_user_model().objects.get(username=username) for username, *_ in ACCOUNTS}
            programme, created = load_sample_plan(reporter=users["demo_reporter"], reviewer=users["demo_reviewer"])
        if programme is None:
            self.stdout.write("没有找到通州区2024年计划，未载入演示计划。The 2024 Tongzhou plan is missing: no demo plan.")
        else:
            state = "已载入" if created else "已存在"
            self.stdout.write(f"演示计划{state} demo plan: {programme.title}")
        host = addrport if ":" in addrport else f"127.0.0.1:{addrport}"
        self.stdout.write(self.style.SUCCESS(f"管理后台 admin: http://{host}/admin/"))
        for username, password, label in logins:
            self.stdout.write(self.style.SUCCESS(f"  用户 user: {username}  密码 password: {password}  （{label}）"))
        if not options["no_serve"]:
            call_command("runserver", addrport, use_reloader=False)

    def superuser(self):
        password = secrets.token_urlsafe(12)
        user, _ = get_user_model().objects.get_or_create(username="demo", defaults={"email": "demo@example.invalid"})
        user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()
        return password
