"""Every private internal of Django, DRF, django-filter, simple-history and axes that this project leans on.

Each test names the internal, where it is used and what is relied on. An
upgrade that changes one fails here, by name, before it breaks a mechanism
silently (docs/ARCHITECTURE.md, the ledger of performance mechanisms).
"""

import inspect

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.paginator import Paginator
from django.db import connection, models
from django.db.models.lookups import In
from django.utils.functional import SimpleLazyObject, empty
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.throttling import SimpleRateThrottle

from tracking.models import Membership, ProgressReport, Target

User = get_user_model()


def test_models_from_db_and_the_related_caches_tracking_auth_fills_by_hand():
    # tracking/auth.py builds Token, User and Membership from one raw row.
    assert list(inspect.signature(models.Model.from_db).parameters) == ["db", "field_names", "values"]
    for descriptor in (Membership.user.field, Token.user.field):
        assert callable(descriptor.set_cached_value) and callable(descriptor.get_cached_value)
    assert callable(User.membership.related.set_cached_value)
    column = Token._meta.get_field("key").get_col(Token._meta.db_table)
    assert isinstance(column.get_db_converters(connection), list)
    assert isinstance(connection.ops.get_db_converters(column), list)


def test_model_backend_caches_permissions_in_perm_cache(superuser):
    # tracking/auth.py fills user._perm_cache itself; ModelBackend must read it from there.
    superuser._perm_cache = {"tracking.sentinel_permission"}
    assert ModelBackend().get_all_permissions(superuser) == {"tracking.sentinel_permission"}
    assert "tracking.sentinel_permission" in ModelBackend().get_all_permissions(superuser)


def test_the_paginators_get_page_builds_a_page_from_a_list():
    # tracking/api/pagination.py IdsFirstPaginator hands Paginator._get_page the rows it fetched itself.
    paginator = Paginator(range(10), 3)
    page = paginator._get_page([7, 8, 9], 3, paginator)
    assert (list(page), page.number, page.has_next()) == ([7, 8, 9], 3, True)


def test_drf_fields_know_their_source_attrs_once_bound():
    # tracking/api/rows.py turns each field's source_attrs into a values() path.
    class Probe(serializers.Serializer):
        region = serializers.CharField(source="programme.region_id")

    assert Probe().fields["region"].source_attrs == ["programme", "region_id"]


def test_filtersets_build_their_form_class_in_get_form_class():
    # tracking/api/filters.py keeps one Form class per FilterSet and language.
    from tracking.api.filters import TargetFilter

    form_class = TargetFilter().get_form_class()
    assert TargetFilter().get_form_class() is form_class
    assert "year" in form_class.base_fields


def test_in_lookups_take_their_values_as_rhs_and_process_lhs():
    # tracking/db.py AnyOf sends an In lookup's values as one parameter.
    for name in ("rhs_is_direct_value", "process_lhs", "as_sql"):
        assert callable(getattr(In, name))
    assert Target.objects.filter(pk__any=[1, 2]).query is not None


def test_simple_history_takes_the_user_from_history_user_and_names_its_columns(tongzhou_reporter, songqingliang):
    # tracking/services/reports.py sets _history_user; importing and the generator write history rows by column.
    import datetime

    report = ProgressReport(target=songqingliang, period_end=datetime.date(2024, 3, 31), value=1)
    report._history_user = tongzhou_reporter
    report.save()
    assert report.history.get().history_user == tongzhou_reporter
    columns = {field.attname for field in ProgressReport.history.model._meta.concrete_fields}
    assert {"history_id", "history_date", "history_type", "history_user_id", "history_change_reason"} <= columns


def test_simple_lazy_object_keeps_its_target_in_wrapped():
    # tracking/middleware.py reads request.user without evaluating it.
    lazy = SimpleLazyObject(lambda: "evaluated")
    assert lazy._wrapped is empty
    str(lazy)
    assert lazy._wrapped == "evaluated"


def test_drf_rate_throttles_expose_what_the_counting_throttle_uses():
    # tracking/api/throttling.py CountingThrottle reads these after SimpleRateThrottle parsed the rate.
    class Probe(SimpleRateThrottle):
        rate = "7/minute"
        scope = "probe"

        def get_cache_key(self, request, view):
            return "probe"

    throttle = Probe()
    assert (throttle.num_requests, throttle.duration) == (7, 60)
    assert callable(throttle.timer) and throttle.cache is not None


def test_uploaded_files_say_whether_they_are_committed():
    # tracking/models/reports.py validate_evidence_size skips files already stored.
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db.models.fields.files import FieldFile

    assert FieldFile(ProgressReport(), ProgressReport._meta.get_field("evidence"), "a.pdf")._committed is True
    assert getattr(SimpleUploadedFile("a.pdf", b"%PDF"), "_committed", False) is False


@pytest.mark.skipif(connection.vendor != "postgresql", reason="psycopg's COPY and the batch sizes are PostgreSQL's")
def test_psycopg_copy_behind_djangos_cursor_and_the_backends_batch_size(db):
    # tracking/importing/reports.py and the generator stream rows with COPY through cursor.cursor;
    # config/postgresql sizes bulk batches through DatabaseOperations.bulk_batch_size.
    with connection.cursor() as cursor:
        assert callable(cursor.cursor.copy)
    assert list(inspect.signature(connection.ops.bulk_batch_size).parameters) == ["fields", "objs"]
    assert connection.ops.bulk_batch_size(["a", "b"], list(range(100_000))) == 65_535 // 5


def test_axes_refuses_a_login_without_a_request_which_our_backend_lets_through(db):
    # tracking/lockout.py LoginThrottleBackend steps aside for authenticate() calls without a request
    # (scripts, the test client's login()), which axes' own backend refuses.
    from axes.backends import AxesStandaloneBackend
    from axes.exceptions import AxesBackendRequestParameterRequired

    from tracking.lockout import LoginThrottleBackend

    with pytest.raises(AxesBackendRequestParameterRequired):
        AxesStandaloneBackend().authenticate(None, username="x", password="y")
    assert LoginThrottleBackend().authenticate(None, username="x", password="y") is None


def test_the_admin_sites_app_dict_is_built_by_build_app_dict(rf, superuser):
    # tracking/admin_site.py orders the index from AdminSite._build_app_dict(), as get_app_list() does.
    from django.contrib import admin

    request = rf.get("/admin/")
    request.user = superuser
    apps = admin.site._build_app_dict(request)
    assert {"app_label", "name", "models"} <= set(apps["tracking"])
    assert {"object_name", "name"} <= set(apps["tracking"]["models"][0])


def test_the_autocomplete_view_sets_model_admin_and_source_field_before_get_queryset():
    # tracking/admin_site.py ScopedAutocompleteView.get_queryset reads them, set by process_request() in get().
    from django.contrib.admin.views.autocomplete import AutocompleteJsonView

    source = inspect.getsource(AutocompleteJsonView.get)
    assert "self.model_admin" in source and "self.source_field" in source
    assert source.index("process_request") < source.index("get_queryset")


def test_history_records_carry_the_fields_the_history_page_reads(db):
    # tracking/admin/history.py reads history_type, history_date, history_user and history_change_reason,
    # and the tracked fields by attname.
    fields = {f.attname for f in ProgressReport.history.model._meta.concrete_fields}
    assert {"history_type", "history_date", "history_user_id", "history_change_reason", "status", "value"} <= fields


@pytest.mark.django_db
def test_a_compiled_query_names_its_select_columns_in_order():
    # tracking/months.py insert() (and migration 0011) turn a grouped values() query into
    # INSERT INTO … (columns) SELECT …: the columns come from compiler.select after as_sql(), each entry
    # (expression, (sql, params), alias) with an alias for an annotation and a Col with its target otherwise.
    from tracking import months

    compiler = months.counted([1]).query.get_compiler(connection=connection)
    sql, _params = compiler.as_sql()
    names = [alias or expression.target.attname for expression, _sql, alias in compiler.select]
    assert names == list(months.FIELDS)
    assert sql.startswith("SELECT")
