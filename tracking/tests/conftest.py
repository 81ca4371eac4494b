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
from django.utils import translation

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


# --- Admin (appended) ------------------------------------------------------------


@pytest.fixture
def jingkou_manager(regions):
    return make_user("jingkou_manager", "321102", "manager")


@pytest.fixture
def media_root(settings, tmp_path):
    """Uploaded evidence and pending imports go to a throw-away directory."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def logged_in(client):
    """logged_in(user) → the test client, signed in to the admin as that user.

    Admin users are staff, as `manage.py grant` makes them; the named world's
    users are not, so they become staff here.
    """

    def login(user):
        if not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        client.force_login(user)
        return client

    return login


# --- API (appended) --------------------------------------------------------------


@pytest.fixture
def api(db):
    """api(user) → a DRF client sending that user's token; api() → an anonymous one.

    Throttle counters live in the cache, which outlives a test; clearing it
    keeps one test's requests from throttling the next.
    """
    from django.core.cache import cache
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    cache.clear()

    def client_for(user=None):
        client = APIClient()
        if user is not None:
            token, _ = Token.objects.get_or_create(user=user)
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return client_for


def bulk_targets(programme, count):
    """count targets spread over ten items, each with one approved and one submitted report.

    Written with bulk_create, so the query-count tests can afford 200 rows.
    """
    items = [
        Item.objects.get_or_create(programme=programme, number=n, defaults={"title": f"事项{n}", "category": "services"})[0]
        for n in range(1, 11)
    ]
    targets = Target.objects.bulk_create(
        Target(
            programme=programme, year=programme.year, period_start=programme.period_start, item=items[i % 10], code=f"{i % 10 + 1}.{i}", name=f"指标{i}", unit="个",
            target_value=Decimal("100"), due_date=programme.period_end,
        )
        for i in range(count)
    )
    day = programme.period_start
    ProgressReport.objects.bulk_create(
        ProgressReport(target=t, period_end=day + datetime.timedelta(days=d), value=Decimal(v), status=s)
        for t in targets
        for d, v, s in ((30, "10", ProgressReport.Status.APPROVED), (60, "5", ProgressReport.Status.SUBMITTED))
    )
    Target.objects.filter(pk__in=[t.pk for t in targets]).refresh_progress()
    return targets


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """A cheap hasher: PBKDF2 takes about 0.5 s a user here, and most tests create several."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def default_language():
    """A request in English leaves English active in this thread; every test starts in Chinese."""
    yield
    translation.deactivate()
