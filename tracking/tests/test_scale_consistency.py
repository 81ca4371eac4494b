"""Stored totals stay equal to a recount from the reports, whatever the workflow does.

A generated world (several provinces, every kind of target, reports in every
state) goes through approvals, returns, edits, new reports, deletions of
reports and of whole targets, all through tracking.services. Afterwards every
stored figure, every programme tally, every with_progress() figure and every
figure of /api/v1/summary/ must equal what a from-scratch computation from the
reports gives (progress_expressions(), through with_progress(as_of=today)).
"""

import datetime
import io
import random
from collections import defaultdict
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import F
from django.utils import timezone

from tracking import selectors, tallies, totals
from tracking import services
from tracking.models import Category, Programme, ProgrammeTally, ProgressReport, Region, Target

S = ProgressReport.Status
FIGURES = ("progress", "last_reported_on", "pending_value", "pending_count", "expected", "completion", "status")


@pytest.fixture
def year():
    return timezone.localdate().year


@pytest.fixture
def generated(db, year):
    call_command("generate_scale_data", districts=8, years=1, seed=7, stdout=io.StringIO())


@pytest.fixture
def national(generated, django_user_model):
    return django_user_model.objects.create_superuser("national", password="pw-national")


def recount(year):
    """Every target of the year with its figures computed from its reports, ignoring the stored totals."""
    today = timezone.localdate()
    return list(
        Target.objects.with_progress(as_of=today)
        .filter(programme__year=year)
        .select_related("programme__region", "item")
        .order_by("pk")
    )


def region_chain(region_code, parents):
    chain = [region_code]
    while parents.get(chain[-1]):
        chain.append(parents[chain[-1]])
    return chain


def group_of(target, group_by, scope, parents, names):
    """The summary group a target falls in, as the API defines it; None when outside the scope."""
    if group_by == "category":
        return target.item.category, str(Category(target.item.category).label)
    if group_by == "programme":
        programme = target.programme
        return str(programme.pk), f"{programme.region.name} {programme.title}"
    chain = region_chain(target.programme.region_id, parents)
    if scope is None:
        return chain[-1], names[chain[-1]]
    if scope not in chain:
        return None
    position = chain.index(scope)
    key = chain[position - 1] if position > 0 else scope
    return key, names[key]


def expected_summary(targets, group_by, scope=None):
    parents = dict(Region.objects.values_list("code", "parent_id"))
    names = dict(Region.objects.values_list("code", "name"))
    groups, completions = {}, defaultdict(list)
    for target in targets:
        found = group_of(target, group_by, scope, parents, names)
        if found is None:
            continue
        key, name = found
        group = groups.setdefault(
            key, {"key": key, "name": name, "targets": 0, **dict.fromkeys(Target.Status.values, 0), "pending_reports": 0}
        )
        group["targets"] += 1
        group[target.status] += 1
        group["pending_reports"] += target.pending_count
        if target.target_value is not None:
            completions[key].append(target.completion or 0.0)
    for key, group in groups.items():
        values = completions[key]
        group["mean_completion"] = sum(values) / len(values) if values else None
    return groups


def assert_summary_matches(api, user, year, group_by, scope=None):
    params = {"year": year, "group_by": group_by, **({"region": scope} if scope else {})}
    response = api(user).get("/api/v1/summary/", params)
    assert response.status_code == 200, response.content
    actual = {group["key"]: group for group in response.json()["groups"]}
    expected = expected_summary(recount(year), group_by, scope)
    assert sorted(actual) == sorted(expected), (group_by, scope)
    for key, group in expected.items():
        mean = group.pop("mean_completion")
        got = dict(actual[key])
        got_mean = got.pop("mean_completion")
        assert got == group, (group_by, scope, key)
        assert (got_mean is None) == (mean is None) and (mean is None or got_mean == pytest.approx(mean)), (group_by, key)


def assert_everything_agrees(api, user, year):
    assert totals.stale_targets() == []
    assert tallies.wrong_tallies() == []
    stored = {t.pk: t for t in Target.objects.with_progress().filter(programme__year=year)}
    fresh = recount(year)
    assert len(stored) == len(fresh)
    for target in fresh:
        for name in FIGURES:
            assert getattr(stored[target.pk], name) == getattr(target, name), (target.pk, name)
    assert_summaries_match(api, user, year)
    call_command("verify_progress", stdout=io.StringIO())


def assert_summaries_match(api, user, year):
    assert_summary_matches(api, user, year, "region")
    province = Region.objects.filter(level=Region.Level.PROVINCE).order_by("code").first()
    assert_summary_matches(api, user, year, "region", province.code)
    assert_summary_matches(api, user, year, "category")
    assert_summary_matches(api, user, year, "programme")


def every_programme_tallied(year):
    return ProgrammeTally.objects.current().filter(year=year).count() == Programme.objects.filter(year=year).count()


def workload(user, year, seed):
    """A morning of reviewing: approvals, returns, corrections, new reports and deletions."""
    rng = random.Random(seed)
    reports = list(ProgressReport.objects.filter(target__programme__year=year).order_by("pk"))
    by_status = defaultdict(list)
    for report in reports:
        by_status[report.status].append(report)
    for report in rng.sample(by_status[S.SUBMITTED], 40):
        services.approve_report(user=user, report=report, note="同意")
    for report in rng.sample(by_status[S.APPROVED], 40):
        services.return_report(user=user, report=report, note="请核对")
    for report in rng.sample(by_status[S.RETURNED], 30):
        services.update_report(user=user, report=report, value=report.value + Decimal("7.5"))
        services.submit_report(user=user, report=report)
        if rng.random() < 0.5:
            services.approve_report(user=user, report=report)
    for report in rng.sample(by_status[S.DRAFT], 30):
        if rng.random() < 0.5:
            services.delete_report(user=user, report=report)
        else:
            services.submit_report(user=user, report=report)
    targets = list(Target.objects.filter(programme__year=year).select_related("programme").order_by("pk"))
    today = timezone.localdate()
    for target in rng.sample(targets, 30):
        # Mid-month, so that it never collides with a generated month-end report.
        day = datetime.date(year, rng.randint(1, today.month if today.year == year else 12), 15)
        if day > today:
            day = today
        created = services.create_report(user=user, target=target, period_end=day, value=Decimal(rng.randint(0, 50)))
        services.submit_report(user=user, report=created)
        if rng.random() < 0.7:
            services.approve_report(user=user, report=created)
    for target in rng.sample(targets, 5):
        # Deleting a target takes its reports with it (the admin's delete).
        services.delete_target(target=target)


def test_stored_totals_and_summary_agree_with_a_recount_after_a_workload(api, national, year):
    assert every_programme_tallied(year)
    assert_everything_agrees(api, national, year)

    workload(national, year, seed=1)

    # Every change recounted its programme's tally, so the summaries above
    # and below add up tallies, not targets.
    assert every_programme_tallied(year)
    assert_everything_agrees(api, national, year)


def test_summaries_are_the_same_without_current_tallies(api, national, year):
    programmes = list(Programme.objects.filter(year=year).order_by("pk").values_list("pk", flat=True))
    ProgrammeTally.objects.filter(pk__in=programmes[::3]).delete()
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    # Counted two days ago, and an on-track target may have fallen behind since yesterday.
    ProgrammeTally.objects.filter(pk__in=programmes[1::3]).update(
        counted_on=yesterday - datetime.timedelta(days=1), valid_until=yesterday
    )

    assert_summaries_match(api, national, year)

    out = io.StringIO()
    call_command("recount_tallies", stdout=out)
    expired, missing = len(programmes[1::3]), len(programmes[::3])
    assert f"recounted {expired} expired programme tally(ies), created {missing} missing" in out.getvalue()
    assert every_programme_tallied(year)
    assert_summaries_match(api, national, year)


def test_a_tally_holds_on_every_day_until_it_expires(year, generated, monkeypatch):
    """Statuses move with the date; a tally is read only until valid_until, and must be exact until then."""
    expiring = ProgrammeTally.objects.current().filter(year=year, valid_until__isnull=False).order_by("pk")
    assert expiring.exists(), "the generated year has on-track targets that will fall behind"
    checked = 0
    for tally in expiring[:12]:
        span = (tally.valid_until - tally.counted_on).days
        for day in sorted({tally.counted_on + datetime.timedelta(days=n) for n in (0, 1, span // 2, span) if n <= span}):
            monkeypatch.setattr(timezone, "localdate", lambda day=day: day)
            assert ProgrammeTally.objects.filter(pk=tally.pk).current().exists()
            [recount] = tallies.counted([tally.pk])
            assert [getattr(recount, s) for s in Target.Status.values] == [getattr(tally, s) for s in Target.Status.values], (tally.pk, day)
            checked += 1
        monkeypatch.setattr(timezone, "localdate", lambda: tally.valid_until + datetime.timedelta(days=1))
        assert not ProgrammeTally.objects.filter(pk=tally.pk).current().exists()
    assert checked >= 24


def test_verify_progress_finds_and_repairs_a_tally_written_behind_the_workflow(national, year):
    tally = ProgrammeTally.objects.filter(year=year, behind__gt=0).order_by("pk").first()
    ProgrammeTally.objects.filter(pk=tally.pk).update(behind=F("behind") - 1, on_track=F("on_track") + 1)

    with pytest.raises(CommandError, match="1 programme tally"):
        call_command("verify_progress", stdout=io.StringIO())
    call_command("verify_progress", repair=True, stdout=io.StringIO())

    assert tallies.wrong_tallies() == []
    tally.refresh_from_db()
    assert tally.behind == Target.objects.with_progress().filter(programme=tally.programme_id, status="behind").count()


def test_deleting_a_programme_takes_its_tally_and_does_not_bring_it_back(generated, year):
    programme = Programme.objects.filter(year=year, targets__isnull=False).order_by("pk").first()

    programme.delete()

    connection.check_constraints()
    assert not ProgrammeTally.objects.filter(pk=programme.pk).exists()


def test_verify_progress_finds_and_repairs_a_total_written_behind_the_workflow(national, year):
    target = Target.objects.filter(programme__year=year, cached_progress__isnull=False).order_by("pk").first()
    Target.objects.filter(pk=target.pk).update(cached_progress=target.cached_progress + 1)

    with pytest.raises(Exception, match="1 target"):
        call_command("verify_progress", stdout=io.StringIO())
    call_command("verify_progress", repair=True, stdout=io.StringIO())

    assert totals.stale_targets() == []


def test_a_tally_recounted_while_a_summary_reads_is_counted_once(api, national, year, monkeypatch):
    """The summary finds the programmes without a current tally, then adds up the others' tallies:
    a tally recounted in between (an approval there) must not then be counted twice."""
    programme = Programme.objects.filter(year=year, targets__isnull=False).order_by("pk").first()
    two_days_ago = timezone.localdate() - datetime.timedelta(days=2)
    ProgrammeTally.objects.filter(pk=programme.pk).update(counted_on=two_days_ago, valid_until=two_days_ago)
    read = selectors.summary_groups

    def recounted_in_between(*args, **kwargs):
        tallies.recount([programme.pk])
        return read(*args, **kwargs)

    monkeypatch.setattr(selectors, "summary_groups", recounted_in_between)

    response = api(national).get("/api/v1/summary/", {"year": year, "group_by": "programme"})

    assert response.status_code == 200
    [group] = [g for g in response.json()["groups"] if g["key"] == str(programme.pk)]
    assert group["targets"] == Target.objects.filter(programme=programme).count()


def test_moving_a_target_to_another_programme_recounts_both_tallies(national, year):
    source, destination = Programme.objects.filter(year=year).order_by("pk")[:2]
    target = Target.objects.filter(programme=source).order_by("pk").first()
    target.programme, target.item, target.code = destination, destination.items.order_by("pk").first(), "moved"

    services.save_target(target=target)

    assert tallies.wrong_tallies() == []
    assert ProgrammeTally.objects.get(pk=source.pk).targets == source.targets.count()
    assert ProgrammeTally.objects.get(pk=destination.pk).targets == destination.targets.count()


def test_moving_a_programmes_start_recounts_its_tally(national, year):
    """Expected progress runs from the start, so statuses move with it (on SQLite too, where
    Programme.save() copies the start onto the targets itself, as PostgreSQL's foreign key does)."""
    programme = Programme.objects.filter(year=year, tally__behind__gt=0).order_by("pk").first()

    programme.period_start = timezone.localdate() - datetime.timedelta(days=1)
    services.save_programme(programme=programme)

    assert tallies.wrong_tallies() == []
    assert ProgrammeTally.objects.current().filter(pk=programme.pk).exists()
    assert ProgrammeTally.objects.get(pk=programme.pk).behind == 0
