"""The scale generator and the benchmark, run small so that both keep working.

The full-size run (README, "Benchmarks") is not part of the suite; this runs
the same code on 20 districts and one year. Comparisons with bare SQL and
COPY are PostgreSQL's; on SQLite the benchmark records them as skipped.
"""

import datetime
import hashlib
import io

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from benchmarks import run as bench
from tracking.models import Programme, ProgressReport, Region, Target
from tracking.months import wrong_months
from tracking.tallies import wrong_tallies
from tracking.totals import stale_targets

SEED_CODES = ["320000", "320500", "320600", "321100", "320582", "320583", "320612", "321102"]


def generate(**options):
    out = io.StringIO()
    call_command("generate_scale_data", stdout=out, **{"districts": 20, "years": 1, "seed": 1, **options})
    return out.getvalue()


def fingerprint():
    """The generated data without ids or timestamps."""
    rows = [
        list(Region.objects.order_by("code").values_list("code", "name", "level", "parent")),
        list(Target.objects.order_by("programme__region", "code").values_list(
            "programme__region", "programme__year", "code", "name", "target_value", "measure", "aggregation"
        )),
        list(ProgressReport.objects.order_by("target__programme__region", "target__code", "period_end").values_list(
            "target__programme__region", "target__code", "period_end", "value", "status", "qualifier"
        )),
    ]
    return hashlib.sha256(repr(rows).encode()).hexdigest()


@pytest.mark.django_db
def test_generator_builds_a_national_hierarchy_with_stored_totals_that_match_the_reports():
    output = generate()

    assert "done in" in output
    levels = {level: Region.objects.filter(level=level).count() for level in Region.Level.values}
    assert levels == {"province": 20, "city": 20, "district": 20}
    assert not Region.objects.filter(code__in=SEED_CODES[1:]).exists()
    year = timezone.localdate().year
    assert set(Programme.objects.values_list("year", flat=True)) == {year}
    targets = Target.objects.count()
    assert 18 * 20 <= targets <= 22 * 20
    assert set(Target.objects.values_list("aggregation", flat=True)) == set(Target.Aggregation.values)
    assert set(Target.objects.values_list("measure", flat=True)) == set(Target.Measure.values)
    statuses = dict(ProgressReport.objects.values_list("status").annotate(n=Count("pk")))
    assert set(statuses) == set(ProgressReport.Status.values)
    assert 0.85 < statuses["approved"] / sum(statuses.values()) < 0.95
    today = timezone.localdate()
    assert not ProgressReport.objects.filter(period_end__gt=today).exists()
    assert not ProgressReport.objects.exclude(period_end__year=year).exists()
    assert stale_targets() == [] and wrong_months() == []
    # The seed fixtures still load into a generated database.
    call_command("loaddata", "regions", verbosity=0)


def generated_then_undone(read, **options):
    """What read() finds in a database generated with these options; the generation is then rolled back."""
    with transaction.atomic():
        generate(**options)
        found = read()
        transaction.set_rollback(True)
    return found


@pytest.mark.django_db
def test_generator_is_deterministic_for_a_seed():
    first = generated_then_undone(fingerprint, districts=5)
    second = generated_then_undone(fingerprint, districts=5)
    generate(districts=5, seed=2)

    assert first == second != fingerprint()


def submissions():
    """Each report's status and submission moment, in a stable order, leaving out the last weeks' (capped at
    the moment of generation, which differs between runs)."""
    recent = timezone.localdate() - datetime.timedelta(days=20)
    return list(
        ProgressReport.objects.filter(period_end__lt=recent)
        .order_by("target__programme__region", "target__code", "period_end")
        .values_list("status", "period_end", "submitted_at", "reviewed_at")
    )


@pytest.mark.django_db
def test_generated_reports_carry_submission_moments_some_late_the_same_for_a_seed():
    first = generated_then_undone(submissions, districts=5)
    generate(districts=5)
    again = submissions()

    assert first == again and len(first) > 100
    assert all((submitted is None) == (status == "draft") for status, _end, submitted, _reviewed in again)
    assert all(reviewed is None or reviewed >= submitted for _status, _end, submitted, reviewed in again)
    # The default rule: due five days after the period ends.
    late = [submitted for _status, end, submitted, _reviewed in again
            if submitted is not None and timezone.localdate(submitted) > end + datetime.timedelta(days=5)]
    assert 0.05 < len(late) / len(again) < 0.25


@pytest.mark.django_db
def test_generator_refuses_a_database_that_already_has_generated_data():
    generate(districts=3)

    with pytest.raises(Exception, match="fresh database"):
        generate(districts=3)


@pytest.mark.django_db
def test_benchmark_runs_every_scenario_at_small_size(tmp_path):
    generate()
    year = timezone.localdate().year
    out = tmp_path / "results.json"
    options = bench.parse_args([
        "--year", str(year), "--reps", "3", "--warmup", "1", "--page-size", "20", "--deep-page", "3",
        "--import-rows", "300", "--import-reps", "1", "--skip-wrk", "--out", str(out),
    ])

    report = bench.run(options, out=io.StringIO())

    results = {(r["scenario"], r["variant"]): r for r in report["results"]}
    assert set(results) == {
        ("targets-page", "first"), ("targets-page", "deep"),
        ("targets-page", "first uncached"), ("targets-page", "deep uncached"), ("programme-detail", "district"),
        ("programme-detail", "district uncached"), ("summary-national", "by-province"), ("summary-national", "one-province"), ("history", "one-target"),
        ("admin-changelist", "city-reviewer"), ("peer", "targets-page"), ("import", "300"),
    }
    for row in results.values():
        assert row["median_ms"] > 0 and row["p95_ms"] >= row["median_ms"] and row["peak_rss_mb"] > 0
    assert results[("peer", "targets-page")]["same_answer"] is True
    assert results[("import", "300")]["rows_per_s"] > 0
    # The imports were undone: the data is as generated.
    assert not ProgressReport.objects.filter(note="批量导入").exists()
    assert stale_targets() == [] and wrong_tallies() == [] and wrong_months() == []
    if connection.vendor == "postgresql":
        assert results[("targets-page", "first")]["ratio_to_sql"] > 0
        assert results[("summary-national", "by-province")]["sql_from_targets_ms"] > 0
        assert results[("import", "300")]["copy_rows_per_s"] > 0
    else:
        assert results[("targets-page", "first")]["sql_median_ms"] is None
        assert "copy_rows_per_s" not in results[("import", "300")]
        assert any("PostgreSQL" in note for note in report["notes"])
    assert any(v["goal"] == "queries per request (all but peer)" for v in report["goals"])
    assert out.exists()
