import secrets

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tracking.access import grant_role


ENGLISH = {
    "region": "unknown region code",
    "role": "unknown role (reporter, manager or reviewer)",
    "password": "password rejected by the password validators",
    "username": "invalid username",
}


class Command(BaseCommand):
    help = (
        "为区县工会人员开通后台账号：创建或更新用户及其地区和角色。"
        " Create or update a staff user with one region and role (reporter, manager, reviewer)."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--region", required=True, help="6位行政区划代码 / region code, e.g. 320612")
        parser.add_argument("--role", required=True, help="reporter 填报员 | manager 管理员 | reviewer 审核员")
        parser.add_argument("--password", help="不填则新用户获得随机密码 / omitted: a new user gets a random one")

    def handle(self, *args, username, region, role, password, **options):
        generated = None
        if password is None and not get_user_model().objects.filter(username=username).exists():
            generated = password = secrets.token_urlsafe(12)
        try:
            membership = grant_role(username=username, region_code=region, role=role, password=password)
        except ValidationError as error:
            english = [ENGLISH.get(field, "") for field in getattr(error, "message_dict", {})]
            message = "；".join(error.messages)
            if any(english):
                message += " / " + "; ".join(e for e in english if e)
            raise CommandError(message) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"{membership.user.get_username()}：{membership.region}（{membership.region_id}）"
                f"{membership.get_role_display()} / {membership.role}"
            )
        )
        if generated:
            self.stdout.write(f"初始密码 password: {generated}")
