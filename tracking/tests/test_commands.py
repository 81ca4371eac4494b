"""The quick-start commands: seed and demo."""

import io

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.utils import timezone

from tracking.models import Membership, Programme, ProgressReport
from tracking.sample_plan import DEMO_MARK


def logins(output):
    """{username: password} from the lines the demo prints."""
    return {
        line.split("用户 user: ")[1].split()[0]: line.split("password: ")[1].split()[0]
        for line in output.splitlines() if "用户 user: " in line
    }


@pytest.mark.django_db
def test_demo_prepares_the_database_and_prints_working_logins():
    out = io.StringIO()

    call_command("demo", "--no-serve", stdout=out)

    printed = logins(out.getvalue())
    assert set(printed) == {"demo", "demo_reporter", "demo_reviewer"}
    for username, password in printed.items():
        assert User.objects.get(username=username).check_password(password)
    assert User.objects.get(username="demo").is_superuser
    assert [(m.user.username, m.region_id, m.role) for m in Membership.objects.order_by("user__username")] == [
        ("demo_reporter", "320612", "reporter"), ("demo_reviewer", "320600", "reviewer"),
    ]
    # The five programmes of the documents, and this year's demo plan.
    assert Programme.objects.count() == 6
    assert "http://127.0.0.1:8000/admin/" in out.getvalue()


@pytest.mark.django_db
def test_demo_takes_an_address_and_port_as_runserver_does():
    out = io.StringIO()

    call_command("demo", "0.0.0.0:8001", "--no-serve", stdout=out)

    assert "http://0.0.0.0:8001/admin/" in out.getvalue()


@pytest.mark.django_db
def test_running_the_demo_again_keeps_one_demo_plan_and_new_passwords():
    first, second = io.StringIO(), io.StringIO()
    call_command("demo", "--no-serve", stdout=first)
    reports = ProgressReport.objects.count()

    call_command("demo", "--no-serve", stdout=second)

    assert Programme.objects.filter(title__startswith=DEMO_MARK).count() == 1
    assert ProgressReport.objects.count() == reports
    assert logins(first.getvalue())["demo_reporter"] != logins(second.getvalue())["demo_reporter"]
    assert User.objects.get(username="demo_reporter").check_password(logins(second.getvalue())["demo_reporter"])


@pytest.mark.django_db
def test_seed_in_production_never_loads_the_demo_plan(settings):
    settings.LOCAL_MODE, settings.DEBUG = False, False

    call_command("seed", verbosity=0)

    assert Programme.objects.count() == 5
    assert not Programme.objects.filter(title__contains="演示").exists()
    assert not Programme.objects.filter(year=timezone.localdate().year).exists()
    assert not User.objects.filter(username__startswith="demo").exists()


@pytest.mark.django_db
def test_demo_refuses_outside_local_mode(settings):
    settings.LOCAL_MODE = False

    with pytest.raises(CommandError, match="LOCAL_MODE"):
        call_command("demo", "--no-serve")
    assert not User.objects.filter(username="demo").exists()


@pytest.mark.django_db
def test_seeding_again_keeps_edits_made_since():
    from tracking.models import ProgressReport

    call_command("seed", verbosity=0)
    seeded = ProgressReport.objects.first()
    ProgressReport.objects.filter(pk=seeded.pk).update(status=ProgressReport.Status.RETURNED)

    call_command("seed", verbosity=0)

    assert ProgressReport.objects.get(pk=seeded.pk).status == ProgressReport.Status.RETURNED
    call_command("seed", "--refresh", verbosity=0)
    assert ProgressReport.objects.get(pk=seeded.pk).status == ProgressReport.Status.APPROVED
