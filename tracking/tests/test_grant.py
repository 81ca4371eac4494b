"""manage.py grant: onboarding a district clerk in one command."""

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from tracking.models import Membership



def grant(*args):
    from io import StringIO

    out = StringIO()
    call_command("grant", *args, stdout=out)
    return out.getvalue()


def groups_of(username):
    return sorted(User.objects.get(username=username).groups.values_list("name", flat=True))


def test_grant_creates_a_staff_user_with_region_role_and_group(regions):
    output = grant("zhang", "--region", "320612", "--role", "reporter", "--password", "Tongzhou-2024-pw")

    user = User.objects.get(username="zhang")
    assert user.is_staff and not user.is_superuser
    assert (user.membership.region_id, user.membership.role) == ("320612", "reporter")
    assert groups_of("zhang") == ["填报员"]
    assert authenticate(username="zhang", password="Tongzhou-2024-pw") == user
    assert "通州区" in output and "填报员" in output


def test_grant_again_moves_the_user_and_replaces_the_role_group(regions):
    grant("zhang", "--region", "320612", "--role", "reporter", "--password", "Tongzhou-2024-pw")

    grant("zhang", "--region", "320600", "--role", "reviewer")

    membership = Membership.objects.get(user__username="zhang")
    assert (membership.region_id, membership.role) == ("320600", "reviewer")
    assert groups_of("zhang") == ["审核员"]
    assert authenticate(username="zhang", password="Tongzhou-2024-pw") is not None
    assert Membership.objects.count() == 1


def test_new_user_without_a_password_gets_a_random_one_printed(regions):
    output = grant("li", "--region", "321102", "--role", "manager")

    password = output.split("password:")[1].strip()
    assert authenticate(username="li", password=password) == User.objects.get(username="li")


def test_unknown_region_is_refused_in_chinese_first_and_creates_nothing(regions):
    with pytest.raises(CommandError) as error:
        grant("wang", "--region", "999999", "--role", "reporter")

    assert str(error.value).startswith("未知的地区代码“999999”")
    assert "unknown region" in str(error.value)
    assert not User.objects.filter(username="wang").exists()


def test_unknown_role_is_refused_in_chinese_first_and_creates_nothing(regions):
    with pytest.raises(CommandError) as error:
        grant("wang", "--region", "320612", "--role", "boss")

    assert str(error.value).startswith("未知的角色“boss”")
    assert "reporter" in str(error.value)
    assert not User.objects.filter(username="wang").exists()


def test_weak_password_is_refused_and_keeps_the_old_one(regions):
    grant("zhang", "--region", "320612", "--role", "reporter", "--password", "Tongzhou-2024-pw")

    with pytest.raises(CommandError):
        grant("zhang", "--region", "320612", "--role", "manager", "--password", "123")

    assert authenticate(username="zhang", password="Tongzhou-2024-pw") is not None
    assert Membership.objects.get(user__username="zhang").role == "reporter"


def test_granted_reporter_can_open_the_admin(regions, client):
    grant("zhang", "--region", "320612", "--role", "reporter", "--password", "Tongzhou-2024-pw")
    client.force_login(User.objects.get(username="zhang"))

    assert client.get("/admin/tracking/progressreport/add/").status_code == 200
    assert client.get("/admin/tracking/target/add/").status_code == 403
