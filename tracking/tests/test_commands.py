"""The quick-start commands: seed and demo."""

import io

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from tracking.models import Programme


@pytest.mark.django_db
def test_demo_prepares_the_database_and_prints_a_working_login():
    out = io.StringIO()

    call_command("demo", "--no-serve", stdout=out)

    password = out.getvalue().split("password: ")[1].split()[0]
    user = User.objects.get(username="demo")
    assert user.is_superuser and user.check_password(password)
    assert Programme.objects.count() == 5


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
