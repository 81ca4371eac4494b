"""The small named world every test shares.

Tongzhou (320612) sits under Nantong (320600); Jingkou (321102) under
Zhenjiang (321100). Each district has a 2024 plan with one target; the
Tongzhou one is item 4's 送清凉 for 12000 workers.
"""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command

from tracking.models import Item, Membership, ProgressReport, Programme, Region, Target

ROLE_GROUPS = {"reporter": "填报员", "manager": "管理员", "reviewer": "审核员"}


def make_user(username, region_code=None, role=None, **extra):
    user = User.objects.create_user(username, password="pw-" + username, **extra)
    if region_code:
        Membership.objects.create(user=user, region_id=region_code, role=role)
        user.groups.add(Group.objects.get(name=ROLE_GROUPS[role]))
    return user


def make_plan(region_code, year=2024):
    return Programme.objects.create(
        region_id=region_code,
        kind=Programme.Kind.ANNUAL_PLAN,
        title=f"{year}年为职工办实事",
        year=year,
        period_start=datetime.date(year, 1, 1),
        period_end=datetime.date(year, 12, 31),
    )


def make_target(programme, *, number=4, code="4.1", name="送清凉", target_value="12000", unit="名", **extra):
    item, _ = Item.objects.get_or_create(
        programme=programme, number=number, defaults={"title": name, "category": "services"}
    )
    return Target.objects.create(
        programme=programme, item=item, code=code, name=name, unit=unit,
        target_value=None if target_value is None else Decimal(target_value), **extra,
    )


def report(target, period_end, value, status=ProgressReport.Status.APPROVED, **extra):
    return ProgressReport.objects.create(
        target=target, period_end=period_end, value=Decimal(str(value)), status=status, **extra
    )


@pytest.fixture
def regions(db):
    call_command("loaddata", "regions", verbosity=0)
    return {region.code: region for region in Region.objects.all()}


@pytest.fixture
def tongzhou_plan(regions):
    return make_plan("320612")


@pytest.fixture
def jingkou_plan(regions):
    return make_plan("321102")


@pytest.fixture
def songqingliang(tongzhou_plan):
    """Tongzhou item 4: 为12000名一线职工送清凉."""
    return make_target(tongzhou_plan)


@pytest.fixture
def jingkou_target(jingkou_plan):
    return make_target(jingkou_plan, number=1, code="1.1", name="职工培训", target_value="500", unit="人次")


@pytest.fixture
def tongzhou_reporter(regions):
    return make_user("tongzhou_reporter", "320612", "reporter")


@pytest.fixture
def tongzhou_manager(regions):
    return make_user("tongzhou_manager", "320612", "manager")


@pytest.fixture
def nantong_reviewer(regions):
    return make_user("nantong_reviewer", "320600", "reviewer")


@pytest.fixture
def jingkou_reporter(regions):
    return make_user("jingkou_reporter", "321102", "reporter")


@pytest.fixture
def zhenjiang_reviewer(regions):
    return make_user("zhenjiang_reviewer", "321100", "reviewer")


@pytest.fixture
def superuser(regions):
    return User.objects.create_superuser("root", password="pw-root")
