"""with_progress(): the one definition of progress, completion, expected and status."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from tracking import services
from tracking.models import ProgressReport, Target
from tracking.totals import repair_progress, stale_targets

from .conftest import make_target, report

D = datetime.date
S = ProgressReport.Status


def figures(target, as_of=None):
    return Target.objects.with_progress(as_of=as_of).get(pk=target.pk)


def test_sum_target_adds_up_approved_reports(songqingliang):
    report(songqingliang, D(2024, 3, 31), 4000)
    report(songqingliang, D(2024, 6, 30), 2000)

    t = figures(songqingliang)

    assert t.progress == Decimal("6000")
    assert t.completion == 50.0
    assert t.last_reported_on == D(2024, 6, 30)


def test_latest_target_takes_the_latest_approved_report(tongzhou_plan):
    target = make_target(tongzhou_plan, code="5.1", number=5, target_value="100000", unit="人次", aggregation="latest")
    report(target, D(2024, 6, 30), 60000)
    report(target, D(2024, 3, 31), 30000)

    t = figures(target)

    assert t.progress == Decimal("60000")
    assert t.completion == 60.0


def test_percentage_target_is_a_rate_not_a_sum(tongzhou_plan):
    rate = make_target(
        tongzhou_plan, code="6.1", number=6, name="建会率", target_value="95", unit="%",
        measure="percentage", aggregation="latest",
    )
    report(rate, D(2024, 6, 30), 90)
    report(rate, D(2024, 9, 30), 96)

    t = figures(rate, as_of=D(2024, 10, 1))

    assert t.progress == Decimal("96")
    assert t.status == Target.Status.ACHIEVED


def test_milestone_is_done_once_reported_as_one(tongzhou_plan):
    centre = make_target(
        tongzhou_plan, code="2.1", number=2, name="开放通州区职工服务中心", target_value="1", unit="项",
        measure="milestone", aggregation="latest",
    )
    report(centre, D(2024, 3, 31), 0)
    assert figures(centre, as_of=D(2024, 4, 1)).completion == 0.0

    report(centre, D(2024, 8, 31), 1)
    assert figures(centre, as_of=D(2024, 9, 1)).status == Target.Status.ACHIEVED


@pytest.mark.parametrize(
    ("as_of", "expected_status"),
    [
        (D(2024, 1, 10), Target.Status.NOT_STARTED),  # before any report
        (D(2024, 4, 30), Target.Status.ON_TRACK),  # 4000/12000 = 33% vs 33% elapsed
        (D(2024, 8, 31), Target.Status.BEHIND),  # still 33% vs 67% elapsed
        (D(2024, 12, 31), Target.Status.ACHIEVED),  # 12000/12000
    ],
)
def test_status_at_fixed_dates(songqingliang, as_of, expected_status):
    report(songqingliang, D(2024, 4, 30), 4000)
    report(songqingliang, D(2024, 12, 31), 8000)

    assert figures(songqingliang, as_of=as_of).status == expected_status


def test_expected_is_the_share_of_the_period_elapsed(songqingliang):
    assert figures(songqingliang, as_of=D(2024, 1, 1)).expected == pytest.approx(100 / 366)
    assert figures(songqingliang, as_of=D(2024, 7, 1)).expected == pytest.approx(183 * 100 / 366)
    assert figures(songqingliang, as_of=D(2023, 6, 1)).expected == 0.0
    assert figures(songqingliang, as_of=D(2025, 6, 1)).expected == 100.0


def test_behind_tolerance_is_a_setting(songqingliang, settings):
    report(songqingliang, D(2024, 4, 30), 4000)  # 33% done
    as_of = D(2024, 7, 1)  # 50% elapsed

    settings.TRACKING_BEHIND_TOLERANCE = 10
    assert figures(songqingliang, as_of=as_of).status == Target.Status.BEHIND
    settings.TRACKING_BEHIND_TOLERANCE = 20
    assert figures(songqingliang, as_of=as_of).status == Target.Status.ON_TRACK


def test_figure_without_target_value_is_reported(tongzhou_plan):
    figure = make_target(tongzhou_plan, code="1.1", number=1, name="知识竞赛参与", target_value=None)
    assert figures(figure, as_of=D(2024, 1, 10)).status == Target.Status.NOT_STARTED

    report(figure, D(2024, 12, 31), 105000)

    t = figures(figure)
    assert t.status == Target.Status.REPORTED
    assert t.completion is None
    assert t.progress == Decimal("105000")


@pytest.mark.parametrize("status", [S.DRAFT, S.SUBMITTED, S.RETURNED])
def test_reports_that_are_not_approved_are_ignored(songqingliang, status):
    report(songqingliang, D(2024, 3, 31), 4000)
    report(songqingliang, D(2024, 6, 30), 5000, status=status)

    assert figures(songqingliang).progress == Decimal("4000")
    assert figures(songqingliang, as_of=D(2024, 12, 31)).progress == Decimal("4000")


def test_submitted_reports_show_as_pending(songqingliang):
    report(songqingliang, D(2024, 3, 31), 4000, status=S.SUBMITTED)
    report(songqingliang, D(2024, 4, 30), 1000, status=S.SUBMITTED)

    t = figures(songqingliang)

    assert t.pending_value == Decimal("5000")
    assert t.pending_count == 2
    assert t.progress is None


def test_as_of_ignores_later_reports(songqingliang):
    report(songqingliang, D(2024, 3, 31), 4000)
    report(songqingliang, D(2024, 6, 30), 2000)

    t = figures(songqingliang, as_of=D(2024, 5, 1))

    assert t.progress == Decimal("4000")
    assert t.last_reported_on == D(2024, 3, 31)


def test_report_outside_the_programme_period_is_refused(songqingliang):
    outside = ProgressReport(target=songqingliang, period_end=D(2025, 1, 1), value=Decimal("10"))

    with pytest.raises(ValidationError) as error:
        outside.full_clean()

    assert "period_end" in error.value.message_dict


def test_negative_value_is_refused_by_the_database(songqingliang):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        ProgressReport.objects.create(target=songqingliang, period_end=D(2024, 3, 31), value=Decimal("-1"))
    assert ProgressReport.objects.count() == 0


def test_stored_totals_follow_returns_and_deletions(songqingliang, nantong_reviewer, tongzhou_reporter):
    first = report(songqingliang, D(2024, 3, 31), 4000)
    second = report(songqingliang, D(2024, 6, 30), 2000)

    services.return_report(user=nantong_reviewer, report=second, note="数字有误")
    assert figures(songqingliang).progress == Decimal("4000")

    services.return_report(user=nantong_reviewer, report=first, note="重新核对")
    services.delete_report(user=tongzhou_reporter, report=first)
    assert figures(songqingliang).progress is None
    assert not ProgressReport.objects.filter(pk=first.pk).exists()
    assert stale_targets() == []


def test_changing_aggregation_recomputes_progress(songqingliang):
    report(songqingliang, D(2024, 3, 31), 4000)
    report(songqingliang, D(2024, 6, 30), 2000)

    songqingliang.aggregation = Target.Aggregation.LATEST
    services.save_target(target=songqingliang)

    assert figures(songqingliang).progress == Decimal("2000")


def test_repair_fixes_totals_changed_behind_its_back(songqingliang):
    report(songqingliang, D(2024, 3, 31), 4000)
    Target.objects.filter(pk=songqingliang.pk).update(cached_progress=Decimal("1"))

    assert repair_progress() == [songqingliang.pk]
    assert figures(songqingliang).progress == Decimal("4000")
    assert stale_targets() == []


def test_verify_command_reports_and_repairs_disagreement(songqingliang):
    from django.core.management import CommandError, call_command

    report(songqingliang, D(2024, 3, 31), 4000)
    Target.objects.filter(pk=songqingliang.pk).update(cached_pending_count=3)

    with pytest.raises(CommandError, match="1 target"):
        call_command("verify_progress")
    call_command("verify_progress", "--repair")
    call_command("verify_progress")
    assert figures(songqingliang).pending_count == 0


# --- The programme's year and start, copied onto its targets ------------------------------


def test_a_target_carries_its_programmes_year_and_start(songqingliang):
    assert (songqingliang.year, songqingliang.period_start) == (2024, D(2024, 1, 1))


def test_moving_a_programme_moves_its_targets_year_and_expected_progress(tongzhou_plan, songqingliang):
    tongzhou_plan.year, tongzhou_plan.period_start, tongzhou_plan.period_end = 2025, D(2025, 1, 1), D(2025, 12, 31)
    tongzhou_plan.save()

    target = Target.objects.get(pk=songqingliang.pk)
    assert (target.year, target.period_start) == (2025, D(2025, 1, 1))
    assert list(Target.objects.filter(year=2025)) == [target]
    # Expected progress runs from the new start: nothing is expected before it.
    assert figures(target, as_of=D(2024, 12, 31)).expected == 0.0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the (programme, year, period_start) foreign key is PostgreSQL's")
def test_the_database_refuses_a_target_year_other_than_its_programmes(songqingliang):
    with pytest.raises(IntegrityError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        Target.objects.filter(pk=songqingliang.pk).update(year=2023)

    assert Target.objects.get(pk=songqingliang.pk).year == 2024
