"""The small named world every test shares.

Tongzhou (320612) sits under Nantong (320600); Jingkou (321102) under
Zhenjiang (321100). Each district has a 2024 plan with one target; the
Tongzhou one is item 4's 送清凉 for 12000 workers.
"""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import translation

from tracking import totals
from tracking.access import ROLE_GROUPS
from tracking.models import Item, Membership, ProgressReport, Programme, Region, Target

D = datetime.date
S = ProgressReport.Status

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
    target = Target.objects.create(
        programme=programme, item=item, code=code, name=name, unit=unit,
        target_value=None if target_value is None else Decimal(target_value), **extra,
    )
    # Written straight to the database, so its programme's tally is recounted here, as tracking.services would.
    totals.refresh([target.pk])
    return target


def report(target, period_end, value, status=ProgressReport.Status.APPROVED, **extra):
    """A report written straight to the database, as a script would: its target's totals are refreshed
    explicitly, as tracking.services do for every write through them."""
    written = ProgressReport.objects.create(
        target=target, period_end=period_end, value=Decimal(str(value)), status=status, **extra
    )
    totals.refresh([target.pk])
    return written


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


# --- The admin ----------------------------------------------------------------------


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


# --- The API ------------------------------------------------------------------------


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
    totals.refresh([t.pk for t in targets])
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


# --- Worlds of several tests ---------------------------------------------------------


@pytest.fixture
def a_draft_in_each_district(songqingliang, jingkou_target, media_root):
    """A draft with evidence for each district's target, and the objects above it, by district and model."""
    evidence = SimpleUploadedFile("photo.png", b"\x89PNG tongzhou", content_type="image/png")
    objects = {}
    for district, target in (("tongzhou", songqingliang), ("jingkou", jingkou_target)):
        draft = report(target, datetime.date(2024, 6, 30), 100, status=S.DRAFT, evidence=evidence)
        objects[district] = {
            "programme": target.programme, "item": target.item, "target": target, "progressreport": draft,
        }
    return objects


@pytest.fixture
def plans_across_jiangsu(songqingliang, jingkou_target, tongzhou_plan):
    """As of 2024-07-01 (50 % of the year gone):

    Tongzhou 2024: 送清凉 50 % on track, 建会率 101 % achieved, 培训 without progress
    (behind, at 0 %), a figure without target value (reported). Nantong's own city
    programme: one target without progress (behind). Jingkou 2024: 职工培训 achieved, one report pending.
    Kunshan 2024: one target behind. Tongzhou 2023: one target (another year).
    """
    report(songqingliang, D(2024, 6, 30), 6000)
    rate = make_target(tongzhou_plan, number=6, code="6.1", name="建会率", target_value="95", aggregation="latest")
    report(rate, D(2024, 6, 30), 96)
    make_target(tongzhou_plan, number=7, code="7.1", name="培训", target_value="300")
    figure = make_target(tongzhou_plan, number=8, code="8.1", name="参与人次", target_value=None)
    report(figure, D(2024, 5, 31), 105000)
    make_target(make_plan("320600"), number=1, code="1.1", name="市级指标", target_value="10")
    report(jingkou_target, D(2024, 6, 30), 500)
    report(jingkou_target, D(2024, 6, 29), 20, status=S.SUBMITTED)
    kunshan = make_target(make_plan("320583"), number=2, code="2.1", name="帮扶", target_value="1000")
    Item.objects.filter(pk=kunshan.item_id).update(category="rights")
    report(kunshan, D(2024, 3, 31), 100)
    make_target(make_plan("320612", year=2023), number=1, code="1.1", name="去年的")


@pytest.fixture
def tongzhou_and_jingkou_targets(songqingliang, jingkou_target, tongzhou_plan):
    """Tongzhou: 送清凉 (sum, 12000) and 建会率 (latest, 95 %); Jingkou: 职工培训."""
    rate = make_target(
        tongzhou_plan, number=6, code="6.1", name="建会率", target_value="95", unit="%",
        measure="percentage", aggregation="latest",
    )
    report(songqingliang, D(2024, 3, 31), 4000)
    report(songqingliang, D(2024, 6, 30), 2000)
    report(rate, D(2024, 6, 30), 96)
    return {"songqingliang": songqingliang, "rate": rate, "jingkou": jingkou_target}


@pytest.fixture
def reports_in_every_state(songqingliang, jingkou_target, tongzhou_reporter, nantong_reviewer):
    """Reports in every state, so that a write that slipped through would show."""
    june = datetime.date(2024, 6, 1)
    reports = {
        state: report(songqingliang, june + datetime.timedelta(days=n), 100 + n, status=state, note="原备注")
        for n, state in enumerate(S.values)
    }
    reports["jingkou"] = report(jingkou_target, june, 50, status=S.DRAFT)
    return {"target": songqingliang, "jingkou_target": jingkou_target, "reports": reports}
