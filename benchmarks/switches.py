"""Each performance mechanism of the service, and how to switch it off for an A/B measurement.

benchmarks/ledger.py runs benchmarks/run.py twice per mechanism, with and
without it (BENCH_SWITCH_OFF=<name>); run.py and the gunicorn workers it
starts call apply() right after Django is set up. Nothing here is imported by
the service itself: every switch replaces the mechanism, in the benchmark's
own process, with what Django, DRF or django-filter would do without it.
"""

import os

# name: (what it is, where it lives, the goals it serves, the run.py scenarios that measure it)
MECHANISMS = {
    "prepared-statements": (
        "PostgreSQL prepares a statement after its fifth use on a connection (server-side binding)",
        "config/settings.py (DB_PREPARED_STATEMENTS), config/postgresql/base.py, tracking/db.py AnyOf",
        ["throughput/304", "programme-detail/district uncached"], ["programme-detail", "throughput"],
    ),
    "token-sql": (
        "token, user and membership from SQL written once per process",
        "tracking/auth.py token_with_user",
        ["throughput/304"], ["targets-page", "throughput"],
    ),
    "one-query-permissions": (
        "the session user with its membership, and all permissions in one UNION query",
        "tracking/auth.py AccountBackend",
        ["admin queries ≤ 6"], ["admin"],
    ),
    "filter-form-cache": (
        "one django-filter Form class per FilterSet and language, not one per request",
        "tracking/api/filters.py StrictFilterSet.get_form_class",
        ["targets-page/first uncached", "throughput/targets-page"], ["targets-page", "throughput"],
    ),
    "rows-serializer": (
        "list pages and the programme detail rendered from values() rows by each field's converter",
        "tracking/api/rows.py",
        ["targets-page/first uncached", "targets-page/deep uncached", "programme-detail/district uncached",
         "peer/targets-page"], ["targets-page", "programme-detail", "throughput"],
    ),
    "ids-first-pages": (
        "deep pages count and find their ids on the index, then fetch those rows",
        "tracking/api/pagination.py IdsFirstPaginator",
        ["targets-page/deep uncached"], ["targets-page"],
    ),
    "target-year-copy": (
        "targets carry their programme's year and start: a year's targets without a join",
        "tracking/models/targets.py (year, period_start; migration 0004)",
        ["targets-page/first uncached", "targets-page/deep uncached"], ["targets-page"],
    ),
    "stored-totals": (
        "each target's approved totals stored on its row, recounted with every change",
        "tracking/totals.py, Target.cached_*",
        ["targets-page/first uncached", "programme-detail/district uncached", "summary-national/by-province"],
        ["targets-page", "programme-detail", "summary"],
    ),
    "tallies": (
        "per-programme status counts, read while they hold",
        "tracking/tallies.py, tracking/models/tallies.py",
        ["summary-national/by-province"], ["summary"],
    ),
    "body-cache": (
        "the rendered JSON kept per ETag, sent again to anyone asking the same question",
        "tracking/api/conditional.py ConditionalGetMixin.answer",
        ["repeated pages (no goal)"], ["targets-page", "programme-detail"],
    ),
    "counting-throttle": (
        "throttles count requests per window with cache.incr() instead of keeping every timestamp",
        "tracking/api/throttling.py",
        ["throughput/304", "throughput/targets-page"], ["throughput"],
    ),
    "superuser-no-region-filter": (
        "a superuser's querysets skip the region filter instead of matching every region",
        "tracking/models/regions.py sees_everything",
        ["targets-page/first uncached", "summary-national/by-province"], ["targets-page", "summary"],
    ),
    "copy-import": (
        "new drafts streamed with COPY into a temporary table and inserted with their history in one statement",
        "tracking/importing/reports.py _create_drafts",
        ["import/100k"], ["import"],
    ),
}


def apply(name=None):
    """Switch one mechanism off in this process (after django.setup())."""
    name = name or os.environ.get("BENCH_SWITCH_OFF")
    if not name:
        return None
    if name not in MECHANISMS:
        raise SystemExit(f"unknown mechanism {name!r}; known: {', '.join(MECHANISMS)}")
    SWITCHES[name]()
    return name


def _token_sql():
    from rest_framework.authtoken.models import Token

    from tracking import auth

    def token_with_user(key):
        return Token.objects.select_related("user__membership").filter(key=key).first()

    auth.token_with_user = token_with_user


def _one_query_permissions():
    from django.contrib.auth.backends import ModelBackend

    from tracking.auth import AccountBackend

    AccountBackend.get_all_permissions = ModelBackend.get_all_permissions
    AccountBackend.get_user = ModelBackend.get_user


def _filter_form_cache():
    import django_filters

    from tracking.api.filters import StrictFilterSet

    StrictFilterSet.get_form_class = django_filters.FilterSet.get_form_class


def _rows_serializer():
    """Model instances through DRF's own ListSerializer, as a ModelSerializer list would."""
    from rest_framework import serializers

    from tracking.api import pagination, programmes, rows, targets
    from tracking.api.serializers import ProgrammeDetailSerializer

    rows.RowsSerializer.to_representation = serializers.ListSerializer.to_representation
    targets.target_rows = lambda queryset: queryset.select_related("programme", "item")

    def page(self, number):
        # IdsFirstPaginator's two paths, on instances.
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count) if bottom + self.per_page + self.orphans >= self.count else bottom + self.per_page
        if bottom < self.deep:
            return self._get_page(list(self.rows(self.object_list[bottom:top])), number, self)
        ids = list(self.object_list.values_list("pk", flat=True)[bottom:top])
        fetched = {row.pk: row for row in self.rows(self.object_list.filter(pk__any=ids).order_by())}
        return self._get_page([fetched[pk] for pk in ids], number, self)

    pagination.IdsFirstPaginator.page = page

    def with_targets(self, queryset, as_of):
        programme = queryset.prefetch_related("items").first()
        if programme is None:
            from django.http import Http404

            raise Http404
        targets_by_item = {}
        for target in programme.targets.with_progress(as_of=as_of).order_by("code", "pk"):
            targets_by_item.setdefault(target.item_id, []).append(target)
        for item in programme.items.all():
            item.targets_shown = targets_by_item.get(item.pk, [])
        return ProgrammeDetailSerializer(programme).data

    programmes.ProgrammeViewSet.with_targets = with_targets
    from tracking.api.serializers import ItemSerializer

    # Fields are deep-copied from their constructor's arguments.
    ItemSerializer._declared_fields["targets"]._kwargs["source"] = "targets_shown"


def _ids_first_pages():
    from tracking.api.pagination import IdsFirstPaginator

    IdsFirstPaginator.deep = 10**12


def _target_year_copy():
    """A year's targets found through their programmes, as before migration 0004 (the filter, the count
    and the deep page's ids; expected progress still reads the copied start)."""
    from tracking.api.filters import TargetFilter

    TargetFilter.base_filters["year"].field_name = "programme__year"


def _stored_totals():
    """Progress computed from the reports on every read, as with_progress(as_of=…) does."""
    from tracking import progress

    rule = progress.with_progress

    def with_progress(targets, as_of=None):
        if as_of is not None:
            return rule(targets, as_of)
        from django.utils import timezone

        day = timezone.localdate()
        figures = progress.progress_expressions(None)
        return (
            targets.annotate(**figures).annotate(expected=progress.expected_on(day))
            .annotate(status=progress.status_expression(day))
        )

    progress.with_progress = with_progress
    _tallies()


def _tallies():
    from tracking.models import ProgrammeTally
    from tracking.models.tallies import ProgrammeTallyQuerySet

    ProgrammeTallyQuerySet.current = lambda self, day=None: self.none()
    assert ProgrammeTally.objects.current().query.is_empty()


def _body_cache():
    from tracking.api.conditional import ConditionalGetMixin

    def answer(self, etag, respond):
        from django.http import HttpResponseNotModified

        return HttpResponseNotModified() if self.not_modified(etag) else respond()

    ConditionalGetMixin.answer = answer


def _counting_throttle():
    from rest_framework.throttling import AnonRateThrottle, UserRateThrottle
    from rest_framework.views import APIView

    from tracking.api.tokens import TokenView

    APIView.throttle_classes = [AnonRateThrottle, UserRateThrottle]
    TokenView.throttle_classes = [AnonRateThrottle]


def _superuser_no_region_filter():
    from tracking.models import regions

    regions.sees_everything = lambda user: False
    for module in ("programmes", "targets", "reports"):
        __import__(f"tracking.models.{module}", fromlist=["x"]).sees_everything = regions.sees_everything


def _copy_import():
    from django.db import connection

    from tracking.importing import reports

    create = reports._create_drafts

    def create_drafts(user, rows, now):
        vendor = connection.vendor
        connection.vendor = "not-postgresql"
        try:
            return create(user, rows, now)
        finally:
            connection.vendor = vendor

    reports._create_drafts = create_drafts


def _prepared_statements():
    # Read when the connection is made; run.py sets the variable before Django starts.
    if os.environ.get("DB_PREPARED_STATEMENTS", "").lower() not in ("false", "0", "no", "off"):
        raise SystemExit("prepared-statements is switched off by DB_PREPARED_STATEMENTS=false before start")


SWITCHES = {
    "prepared-statements": _prepared_statements,
    "token-sql": _token_sql,
    "one-query-permissions": _one_query_permissions,
    "filter-form-cache": _filter_form_cache,
    "rows-serializer": _rows_serializer,
    "ids-first-pages": _ids_first_pages,
    "target-year-copy": _target_year_copy,
    "stored-totals": _stored_totals,
    "tallies": _tallies,
    "body-cache": _body_cache,
    "counting-throttle": _counting_throttle,
    "superuser-no-region-filter": _superuser_no_region_filter,
    "copy-import": _copy_import,
}
assert SWITCHES.keys() == MECHANISMS.keys()


def answers(paths):
    """The JSON (or text) answers of these paths for the national superuser, floats to 9 digits: what a
    switched-off mechanism must answer alike (a summary's float sums may differ in their last digits)."""
    import json

    from django.core.cache import cache
    from django.test import Client
    from rest_framework.authtoken.models import Token

    token = Token.objects.get(user__username="bench_national").key
    client = Client(HTTP_AUTHORIZATION=f"Token {token}")

    def rounded(value):
        if isinstance(value, float):
            return float(f"{value:.9g}")
        if isinstance(value, dict):
            return {key: rounded(item) for key, item in value.items()}
        if isinstance(value, list):
            return [rounded(item) for item in value]
        return value

    found = {}
    for path in paths:
        cache.clear()
        response = client.get(path)
        is_json = response["Content-Type"].startswith("application/json")
        found[path] = [response.status_code, rounded(response.json()) if is_json else response.content.decode()]
    return json.dumps(found, sort_keys=True, ensure_ascii=False)


if __name__ == "__main__":
    # python benchmarks/switches.py OUT PATH…: the answers, with BENCH_SWITCH_OFF's mechanism off (benchmarks/ledger.py).
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    import django

    django.setup()
    apply()
    Path(sys.argv[1]).write_text(answers(sys.argv[2:]))
