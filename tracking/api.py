"""The REST API under /api/v1/: viewsets, and the plumbing they share.

Views stay thin: every queryset starts from what the request may see
(filters.visible, i.e. visible_to()), every progress figure comes from
Target.objects.with_progress(), and every write calls tracking.services or
tracking.importing, whose Django exceptions exception_handler() translates.
"""

import contextlib
import csv
import hashlib
import io
import json
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import Paginator as DjangoPaginator
from django.db import connection, transaction
from django.db.models import Case, Count, Exists, F, Max, OuterRef, Q, Sum, Value, When
from django.db.models.functions import Coalesce, Concat
from django.core.cache import cache
from django.http import Http404, HttpResponse, HttpResponseNotModified, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.functional import cached_property
from django.utils.http import parse_etags
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view, inline_serializer
from rest_framework import exceptions, filters, generics, mixins, serializers, status, viewsets
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.renderers import BaseRenderer, BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from . import importing, services
from .filters import ProgrammeFilter, ProgressReportFilter, RegionFilter, TargetFilter
from .models import Category, Item, Programme, ProgrammeTally, ProgressReport, Region, Target, lock
from .reliability import AnonThrottle, JSONBodyParser
from .resources import excel_safe
from .serializers import (
    HistoryPointSerializer,
    ImportResultSerializer,
    ImportUploadSerializer,
    ItemFieldsSerializer,
    NestedTargetSerializer,
    ProgrammeDetailSerializer,
    ProgrammeSerializer,
    ProgressReportSerializer,
    ProgressReportUpdateSerializer,
    RegionSerializer,
    ReviewSerializer,
    SummaryQuerySerializer,
    SummarySerializer,
    TargetSerializer,
    row_paths,
    rows_data,
)

# --- Scope, errors, permissions, pagination, rendering ------------------------------


def visible(model, request):
    """What this request may read: the one scoping rule, opened up for public dashboards.

    With TRACKING_PUBLIC_READ on, anonymous reads see every region (a public
    big screen has no membership); everyone else, and every write, goes
    through visible_to().
    """
    if settings.TRACKING_PUBLIC_READ and request.method in SAFE_METHODS and not request.user.is_authenticated:
        return model.objects.all()
    return model.objects.visible_to(request.user)


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = _("该填报在您读取之后已被修改，请重新读取后再操作")
    default_code = "precondition_failed"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("该填报当前的状态不允许此操作")
    default_code = "conflict"


def exception_handler(exc, context):
    """Django's and the services' exceptions as DRF responses, so domain code never imports DRF."""
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            key = api_settings.NON_FIELD_ERRORS_KEY
            detail = {(key if name == NON_FIELD_ERRORS else name): messages for name, messages in exc.message_dict.items()}
        else:
            detail = {api_settings.NON_FIELD_ERRORS_KEY: exc.messages}
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, services.WorkflowConflict):
        exc = Conflict(str(exc))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, Http404):
        # get_object_or_404's message names the model in English; the default is translated.
        exc = exceptions.NotFound()
    return drf_exception_handler(exc, context)


def _error(description, schema="Error"):
    return {"description": description, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}


ERROR_SCHEMAS = {
    "Error": {
        "type": "object",
        "properties": {"detail": {"type": "string", "description": "错误说明"}},
        "required": ["detail"],
    },
    "ValidationError": {
        "type": "object",
        "description": "字段名 → 错误说明列表（整体问题在 non_field_errors 下）；请求体无法解析时为 {\"detail\": …}",
        "additionalProperties": True,
    },
}
WORKFLOW_SUFFIXES = ("/submit/", "/approve/", "/return/")


def document_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: list the errors every operation can answer.

    exception_handler() turns refusals into 400/403/404/409, throttling answers
    429 and a database outage 503 (tracking.reliability); without them in the
    schema, generated clients and the schema fuzz test meet undocumented codes.
    """
    result.setdefault("components", {}).setdefault("schemas", {}).update(ERROR_SCHEMAS)
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            writes_a_report = method in ("put", "patch", "delete") or path.endswith(WORKFLOW_SUFFIXES)
            errors = {
                "400": _error("请求有误：参数或请求体不合要求", "ValidationError")
                if operation.get("parameters") or "requestBody" in operation else None,
                "401": _error("未登录或令牌无效"),
                "403": _error("无权进行此操作"),
                "404": _error("不存在，或不在您可见的地区范围内"),
                "409": _error("该填报当前的状态不允许此操作") if writes_a_report else None,
                "412": _error("If-Match 与当前版本不符：填报已被他人修改") if writes_a_report else None,
                "415": _error("不支持的请求体格式") if "requestBody" in operation else None,
                "429": _error("请求过于频繁，请稍后再试"),
                "503": _error("数据库暂时不可用，请稍后重试"),
            }
            for code, response in errors.items():
                if response is None:
                    continue
                if code not in responses:
                    responses[code] = response
                elif code == "400":
                    # A documented 400 body (the import's row errors) or any other refusal.
                    for media in responses[code].get("content", {}).values():
                        media["schema"] = {"anyOf": [media["schema"], {"$ref": "#/components/schemas/ValidationError"}]}
    return result


class ReadPolicy(BasePermission):
    """Everything needs a user, except reads when TRACKING_PUBLIC_READ opens them to anonymous dashboards.

    Roles and regions are not checked here: the querysets (visible_to) and the
    services (can_enter, can_review) do that.
    """

    def has_permission(self, request, view):
        if request.user.is_authenticated:
            return True
        return settings.TRACKING_PUBLIC_READ and request.method in SAFE_METHODS


PAGE_FIELD_HELP = {
    "count": "符合条件的总条数",
    "next": "下一页的完整 URL；没有时为 null",
    "previous": "上一页的完整 URL；没有时为 null",
    "results": "本页的数据",
}


def describe_page(schema):
    for name, field in schema["properties"].items():
        field.setdefault("description", PAGE_FIELD_HELP[name])
    return schema


class StrictPageSize:
    """page_size=abc is a 400; DRF would silently fall back to the default."""

    def get_page_size(self, request):
        if self.page_size_query_param in request.query_params:
            field = serializers.IntegerField(min_value=1)
            return min(parse_param(request, self.page_size_query_param, field, allow_empty=False), self.max_page_size)
        return self.page_size


class PageNumber(StrictPageSize, PageNumberPagination):
    page_size_query_param = "page_size"
    page_size_query_description = _("每页条数，默认 50，最多 1000")
    max_page_size = 1000

    def get_paginated_response_schema(self, schema):
        return describe_page(super().get_paginated_response_schema(schema))


class IdsFirstPaginator(DjangoPaginator):
    """Counts and finds a page's ids on the bare, ordered queryset, then fetches those rows with their joins.

    A deep page (OFFSET 50000) then skips index entries, not joined and
    annotated rows. rows() turns the page's queryset into the values() rows
    that are serialized (they include "id"), so the count and the ids stay
    free of the joins that values() adds.
    """

    # Below this offset one query with the joins is cheaper than two.
    deep = 1000

    def __init__(self, object_list, per_page, *, rows, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.rows = rows

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        if bottom < self.deep:
            return self._get_page(list(self.rows(self.object_list[bottom:top])), number, self)
        ids = list(self.object_list.values_list("pk", flat=True)[bottom:top])
        fetched = {row["id"]: row for row in self.rows(self.object_list.filter(pk__any=ids).order_by())}
        return self._get_page([fetched[pk] for pk in ids], number, self)


class TargetPage(PageNumber):
    def django_paginator_class(self, queryset, page_size):
        return IdsFirstPaginator(queryset, page_size, rows=target_rows)


def target_rows(queryset):
    """Targets as the values() rows TargetSerializer's RowsSerializer turns into JSON."""
    return queryset.values(*row_paths(TargetSerializer))


class ReportCursor(StrictPageSize, CursorPagination):
    # The primary key only grows and is unique, so a cursor never skips or
    # repeats a report while others are added, and every page is a range scan
    # of the primary-key index however deep it is.
    ordering = "-id"
    page_size_query_param = "page_size"
    page_size_query_description = _("每页条数，默认 50，最多 1000")
    max_page_size = 1000

    def get_paginated_response_schema(self, schema):
        return describe_page(super().get_paginated_response_schema(schema))


class CSVRenderer(BaseRenderer):
    """?format=csv: UTF-8 with a BOM (so Excel detects it) and the fields' Chinese labels as headers."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        rows = data if isinstance(data, list) else [data]
        fields = renderer_context["view"].get_serializer().fields
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([str(fields[name].label or name) for name in fields])
        for row in rows:
            writer.writerow([self.cell(row.get(name)) for name in fields])
        return ("\ufeff" + out.getvalue()).encode("utf-8")

    @staticmethod
    def cell(value):
        if value is None:
            return ""
        if isinstance(value, Decimal):
            return format(value.normalize(), "f")
        return excel_safe(value) if isinstance(value, str) else str(value)


def parse_param(request, name, field, allow_empty=False):
    """One query parameter through a serializer field: None when absent, 400 when malformed or empty."""
    raw = request.query_params.get(name)
    if raw is None or (raw == "" and allow_empty):
        return None
    if raw == "":
        raise exceptions.ValidationError({name: [_("参数不能为空；不需要时请省略")]})
    try:
        return field.run_validation(raw)
    except exceptions.ValidationError as error:
        raise exceptions.ValidationError({name: error.detail}) from None


FORMAT = OpenApiParameter(
    "format", OpenApiTypes.STR, enum=["json", "csv"],
    description="csv：下载 CSV（UTF-8 带 BOM，中文表头，不分页，返回全部符合条件的行）；默认 JSON",
)
CSV_RESPONSE = OpenApiResponse(OpenApiTypes.STR, description="format=csv 时：CSV 文本，不分页")
IF_MATCH = OpenApiParameter(
    "If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER,
    description="可选：读取该填报时得到的 ETag。填报此后被修改过则返回 412，什么都不改（审核员据此只通过自己看过的版本）",
)
AS_OF = OpenApiParameter(
    "as_of", OpenApiTypes.DATE, description="计算进度的日期（YYYY-MM-DD），只计入此日及以前的已通过填报；默认今天"
)


# --- Conditional GET ---------------------------------------------------------------


def data_version():
    """A number that moves with every committed change to the rows the API shows; None while one is in flight.

    Counted by the database in triggers (migration 0006), so a change that
    commits after a body was built always moves it, which MAX(updated_at) did
    not (a transaction's timestamp is taken before it commits, and another may
    commit in between). While another session's change is in flight there is
    no version, so nothing is answered 304 or kept. (A reader inside its own
    writing transaction would see its own change counted; no GET writes.)
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tracking_data_version()")
        else:
            cursor.execute("SELECT version FROM tracking_data_version")
        return cursor.fetchone()[0]


class ConditionalGetMixin:
    """ETags on lists and details, checked before the body is built.

    The ETag hashes the data version (data_version()), the path and query
    string, the user's scope, the language and the format, and for figures
    that move with the date, today. Any committed change to regions,
    programmes, items, targets or reports changes every ETag: coarser than an
    aggregate over the rows shown, but never behind them, and one cheap query.
    """

    # Expected progress and status change with the date even when no row does.
    etag_depends_on_today = False

    def etag_for(self, *parts, action=None, path=None):
        user = self.request.user
        membership = getattr(user, "membership", None) if user.is_authenticated else None
        key = [
            type(self).__name__,
            action or self.action,
            path or self.request.get_full_path(),
            user.pk,
            user.is_superuser,
            membership and (membership.region_id, membership.role),
            translation.get_language(),
            self.request.accepted_renderer.format,
            timezone.localdate() if self.etag_depends_on_today else None,
            # Statuses depend on it, and it changes with a restart rather than a row.
            settings.TRACKING_BEHIND_TOLERANCE,
            *parts,
        ]
        digest = hashlib.sha256(json.dumps(key, default=str, ensure_ascii=False).encode()).hexdigest()[:32]
        return f'W/"{digest}"'

    def not_modified(self, etag):
        header = self.request.headers.get("If-None-Match")
        if not header:
            return False
        wanted = {tag.removeprefix("W/") for tag in parse_etags(header)}
        return "*" in wanted or etag.removeprefix("W/") in wanted

    def conditional(self, respond):
        """respond() builds the 200 response; it is not called when the client's copy is current."""
        version = data_version()
        if version is None:
            return respond()
        etag = self.etag_for(version)
        response = self.answer(etag, respond)
        response["ETag"] = etag
        return response

    def answer(self, etag, respond):
        """304 if the client holds this ETag; else a JSON body already built for it; else respond().

        The ETag names this exact answer (data version, query, user, scope,
        language, format and, where it matters, today), so a body built for
        it can be sent again as it is, to every client asking the same question.
        """
        if self.not_modified(etag):
            return HttpResponseNotModified()
        cache_key = f"body:{etag}" if self.request.accepted_renderer.format == "json" else None
        if cache_key and (body := cache.get(cache_key)) is not None:
            return HttpResponse(body, content_type="application/json")
        response = respond()
        if cache_key and response.status_code == 200:
            response.add_post_render_callback(lambda rendered: cache.set(cache_key, rendered.content, 600))
        return response

    def conditional_on_content(self, response):
        """For data without timestamps: the ETag hashes the data, which saves the transfer but not the work."""
        if response.status_code != 200:
            return response
        etag = self.etag_for(response.data)
        if self.not_modified(etag):
            response = HttpResponseNotModified()
        response["ETag"] = etag
        return response

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method in SAFE_METHODS:
            patch_vary_headers(response, ["Accept", "Accept-Language", "Authorization", "Cookie"])
            # Clients keep the copy but check it every time, with If-None-Match.
            patch_cache_control(response, no_cache=True, **({"private": True} if request.user.is_authenticated else {}))
        return response


# --- Shared viewset behaviour ------------------------------------------------------


class StrictOrdering(filters.OrderingFilter):
    """?ordering= on the listed fields only (anything else is a 400), nulls last, then id.

    The id tie-break keeps page boundaries stable when many rows share a value.
    """

    def get_ordering(self, request, queryset, view):
        param = request.query_params.get(self.ordering_param)
        if not param:
            return self.get_default_ordering(view)
        fields = [part.strip() for part in param.split(",") if part.strip()]
        unknown = [name for name in fields if name.removeprefix("-") not in view.ordering_fields]
        if unknown:
            choices = ", ".join(view.ordering_fields)
            raise exceptions.ValidationError(
                {self.ordering_param: [_("不能按“%(field)s”排序，可选：%(choices)s") % {"field": unknown[0], "choices": choices}]}
            )
        return fields

    def filter_queryset(self, request, queryset, view):
        ordering = self.get_ordering(request, queryset, view)
        if request.query_params.get(self.ordering_param):
            sources = getattr(view, "ordering_sources", {})
            ordering = [
                F(sources.get(name.removeprefix("-"), name.removeprefix("-"))).desc(nulls_last=True)
                if name.startswith("-")
                else F(sources.get(name, name)).asc(nulls_last=True)
                for name in ordering
            ]
        return queryset.order_by(*ordering, "pk")


class ApiViewSet(ConditionalGetMixin, viewsets.GenericViewSet):
    """list and retrieve with conditional GET, unpaginated CSV, and JSON errors whatever the format."""

    permission_classes = [ReadPolicy]
    pagination_class = PageNumber

    def get_lookup_queryset(self):
        queryset = self.filter_queryset(self.get_queryset())
        lookup = self.kwargs[self.lookup_url_kwarg or self.lookup_field]
        try:
            return queryset.filter(**{self.lookup_field: lookup})
        except (TypeError, ValueError, DjangoValidationError):
            # /targets/abc/ is a missing target, not a server error.
            raise Http404 from None

    def get_object(self):
        return get_object_or_404(self.get_lookup_queryset())

    def get_renderers(self):
        # CSV is a download of what GET returns; writes and other actions answer in JSON only.
        renderers = super().get_renderers()
        # (No action: a method the view lacks, answered 405 whatever the format.)
        if self.action not in ("list", "retrieve", None):
            renderers = [r for r in renderers if r.format != "csv"]
        return renderers

    def paginate_queryset(self, queryset):
        # A CSV download is for a spreadsheet, which wants every row in one file.
        if self.request.accepted_renderer.format == "csv":
            return None
        return super().paginate_queryset(queryset)

    def list(self, request, *args, **kwargs):
        # The ETag covers the whole query string, so a client holding one was
        # answered for these parameters before: the filters need not be built
        # again to tell it nothing changed.
        return self.conditional(lambda: self.list_response(self.filter_queryset(self.get_queryset())))

    def list_response(self, queryset):
        page = self.paginate_queryset(queryset)
        if page is not None:
            return self.get_paginated_response(self.get_serializer(page, many=True).data)
        response = Response(self.get_serializer(queryset, many=True).data)
        if self.request.accepted_renderer.format == "csv":
            response["Content-Disposition"] = f'attachment; filename="{self.basename}.csv"'
        return response

    def retrieve(self, request, *args, **kwargs):
        return self.conditional(lambda: Response(self.get_serializer(self.get_object()).data))

    def finalize_response(self, request, response, *args, **kwargs):
        # Errors are JSON even when CSV was asked for, so a script can read them.
        if getattr(response, "exception", False) and getattr(request, "accepted_renderer", None):
            if request.accepted_renderer.format == "csv":
                request.accepted_renderer, request.accepted_media_type = JSONRenderer(), JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)


# --- Regions -------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="地区列表", description="当前用户可见的地区（自己地区及其下级）。"),
    retrieve=extend_schema(summary="地区详情"),
)
class RegionViewSet(ApiViewSet):
    """Regions: province, city and district trade unions, keyed by their 6-digit code."""

    serializer_class = RegionSerializer
    filterset_class = RegionFilter
    lookup_field = "code"

    def get_queryset(self):
        return visible(Region, self.request).order_by("code")

    # Regions carry no updated_at, so their ETag hashes the (small) data itself.
    def list(self, request, *args, **kwargs):
        return self.conditional_on_content(self.list_response(self.filter_queryset(self.get_queryset())))

    def retrieve(self, request, *args, **kwargs):
        return self.conditional_on_content(Response(self.get_serializer(self.get_object()).data))


# --- Programmes ----------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="计划列表"),
    retrieve=extend_schema(
        summary="计划详情：事项及其指标的进度", parameters=[AS_OF], responses=ProgrammeDetailSerializer
    ),
)
class ProgrammeViewSet(ApiViewSet):
    """A region's programme for a period; the detail nests its items and their targets with progress."""

    filterset_class = ProgrammeFilter

    def get_queryset(self):
        # Exactly the (region, year, kind) unique constraint's index, so deep pages need no sort.
        return visible(Programme, self.request).order_by("region_id", "year", "kind")

    def retrieve(self, request, *args, **kwargs):
        as_of = parse_param(request, "as_of", serializers.DateField())
        return self.conditional(lambda: Response(self.with_targets(self.get_lookup_queryset(), as_of)))

    def with_targets(self, queryset, as_of):
        """ProgrammeDetailSerializer's JSON, built from values() rows by each field's own conversion:
        no model instances, and none of DRF's per-request field building for three nested serializers."""
        programme = queryset.values(*row_paths(ProgrammeSerializer)).first()
        if programme is None:
            raise Http404
        targets = (
            Target.objects.filter(programme=programme["id"]).with_progress(as_of=as_of).order_by("code", "pk")
            .values("item_id", *row_paths(NestedTargetSerializer))
        )
        by_item = {}
        for row in targets:
            by_item.setdefault(row["item_id"], []).append(row)
        items = list(Item.objects.filter(programme=programme["id"]).order_by("number").values(*row_paths(ItemFieldsSerializer)))
        [data] = rows_data(ProgrammeSerializer, [programme])
        data["items"] = [
            {**item, "targets": rows_data(NestedTargetSerializer, by_item.get(row["id"], []))}
            for row, item in zip(items, rows_data(ItemFieldsSerializer, items))
        ]
        return data

    def get_serializer_class(self):
        return ProgrammeDetailSerializer if self.action == "retrieve" else ProgrammeSerializer

    @property
    def etag_depends_on_today(self):
        return self.action == "retrieve"


# --- Targets -------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="指标列表及进度",
        parameters=[AS_OF, FORMAT],
        responses={(200, "application/json"): TargetSerializer(many=True), (200, "text/csv"): CSV_RESPONSE},
    ),
    retrieve=extend_schema(summary="指标详情及进度", parameters=[AS_OF, FORMAT]),
)
class TargetViewSet(ApiViewSet):
    """Measurable targets with their progress, completion, expected progress and status."""

    serializer_class = TargetSerializer
    filterset_class = TargetFilter
    filter_backends = [DjangoFilterBackend, filters.SearchFilter, StrictOrdering]
    search_fields = ["name"]
    ordering_fields = ["completion", "name", "last_reported_on", "item_number"]
    ordering_sources = {"item_number": "item__number"}
    # Unique and covered by the (programme, code) constraint's index, so a page
    # is an index range rather than a sort of every target. Codes sort as text.
    ordering = ["programme_id", "code"]
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, CSVRenderer]
    etag_depends_on_today = True
    pagination_class = TargetPage

    def list_response(self, queryset):
        # Pages come as values() rows from TargetPage; a CSV download is every row at once.
        if self.request.accepted_renderer.format == "csv":
            queryset = target_rows(queryset)
        return super().list_response(queryset)

    @cached_property
    def as_of(self):
        return parse_param(self.request, "as_of", serializers.DateField())

    def get_queryset(self):
        return visible(Target, self.request).with_progress(as_of=self.as_of).select_related("programme", "item")

    @extend_schema(
        summary="指标的进度时间序列",
        description=(
            "按日期排列的已通过填报。progress 为截至该日的进度：sum 指标为累计值，latest 指标为该次数值；"
            "与 with_progress(as_of=该日) 的结果一致。"
        ),
        filters=False,
        responses=HistoryPointSerializer(many=True),
    )
    @action(detail=True, pagination_class=None)
    def history(self, request, *args, **kwargs):
        return self.conditional(lambda: Response(history_points(self.get_object())))


def history_points(target):
    """The approved reports of one target with the progress each one brings it to, in one query."""
    points = [
        {"date": row["period_end"], "value": row["value"], "progress": row["progress"], "completion": row["completion"]}
        for row in target.progress_history()
    ]
    return HistoryPointSerializer(points, many=True).data


# --- Progress reports ----------------------------------------------------------------


DRY_RUN = OpenApiParameter("dry_run", OpenApiTypes.BOOL, description="为 true 时只校验、不写入")


@extend_schema_view(
    list=extend_schema(
        summary="进度填报列表（游标分页，最新的在前）",
        parameters=[FORMAT],
        responses={(200, "application/json"): ProgressReportSerializer(many=True), (200, "text/csv"): CSV_RESPONSE},
    ),
    retrieve=extend_schema(summary="进度填报详情", parameters=[FORMAT]),
    create=extend_schema(summary="新建填报（草稿）", description="填报人和状态由服务端决定；只能为本地区的指标填报。"),
    update=extend_schema(summary="修改填报", description="只有草稿或已退回的填报可以修改；指标不能改。"),
    partial_update=extend_schema(summary="修改填报的部分字段"),
    destroy=extend_schema(summary="删除填报", description="只有草稿或已退回的填报可以删除。"),
)
class ProgressReportViewSet(
    mixins.CreateModelMixin, mixins.UpdateModelMixin, mixins.DestroyModelMixin, ApiViewSet
):
    """Dated figures for a target and their review: draft → submitted → approved, or returned.

    Only approved reports count as progress. Reporters and managers enter
    reports for their own region's targets; reviewers of the region or a
    region above it approve or return them.
    """

    filterset_class = ProgressReportFilter
    pagination_class = ReportCursor
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, CSVRenderer]

    def get_queryset(self):
        # Newest first for CSV too; pages get the same order from the cursor.
        queryset = visible(ProgressReport, self.request).order_by("-id")
        return queryset.select_related("target__programme", "created_by", "reviewed_by")

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return ProgressReportUpdateSerializer
        return ProgressReportSerializer

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        if page is None:
            return self.conditional(lambda: self.list_response(queryset))
        # Counting an ever-growing table on every poll is what cursor pagination
        # avoids, so here the ETag hashes the page that was fetched anyway.
        paginator = self.paginator
        etag = self.etag_for([(r.pk, r.updated_at) for r in page], paginator.has_next, paginator.has_previous)
        if self.not_modified(etag):
            response = HttpResponseNotModified()
        else:
            response = self.get_paginated_response(self.get_serializer(page, many=True).data)
        response["ETag"] = etag
        return response

    def perform_create(self, serializer):
        serializer.instance = services.create_report(user=self.request.user, **serializer.validated_data)

    # If-Match: a write on the version the client read, or 412. Edits, deletes
    # and workflow steps take the ETag a GET of the report answered (weak
    # comparison: every ETag here is weak). The report stays locked from the
    # check to the write, so a change in between cannot slip past it.

    def retrieve(self, request, *args, **kwargs):
        # The report's own ETag rather than the data version: If-Match compares
        # it, and a change to another report must not fail that. Its body is
        # not kept, as it also shows its target, whose changes this ETag misses.
        queryset = self.get_lookup_queryset()
        etag = self.etag_for(sorted(queryset.aggregate(**self.etag_aggregates()).items()))
        if self.not_modified(etag):
            response = HttpResponseNotModified()
        else:
            response = Response(self.get_serializer(get_object_or_404(queryset)).data)
        response["ETag"] = etag
        return response

    def etag_aggregates(self):
        return {"n": Count("pk"), "t0": Max("updated_at")}

    def detail_etag(self, report):
        figures = ProgressReport.objects.filter(pk=report.pk).aggregate(**self.etag_aggregates())
        path = reverse("progress-report-detail", args=[report.pk])
        return self.etag_for(sorted(figures.items()), action="retrieve", path=path)

    @contextlib.contextmanager
    def precondition(self):
        with transaction.atomic():
            header = self.request.headers.get("If-Match")
            if header:
                report = self.get_object()
                # Target, then report: the order the services lock them in.
                lock(Target.objects.filter(pk=report.target_id))
                lock(ProgressReport.objects.filter(pk=report.pk))
                wanted = {tag.removeprefix("W/") for tag in parse_etags(header)}
                if "*" not in wanted and self.detail_etag(report).removeprefix("W/") not in wanted:
                    raise PreconditionFailed()
            yield

    def with_etag(self, response):
        if 200 <= response.status_code < 300 and isinstance(response.data, dict) and "id" in response.data:
            response["ETag"] = self.detail_etag(ProgressReport(pk=response.data["id"]))
        return response

    @extend_schema(parameters=[IF_MATCH])
    def update(self, request, *args, **kwargs):
        with self.precondition():
            response = super().update(request, *args, **kwargs)
        return self.with_etag(response)

    @extend_schema(parameters=[IF_MATCH])
    def partial_update(self, request, *args, **kwargs):
        kwargs["partial"] = True
        return self.update(request, *args, **kwargs)

    @extend_schema(parameters=[IF_MATCH])
    def destroy(self, request, *args, **kwargs):
        with self.precondition():
            return super().destroy(request, *args, **kwargs)

    def perform_update(self, serializer):
        serializer.instance = services.update_report(
            user=self.request.user, report=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.delete_report(user=self.request.user, report=instance)

    def transition(self, step, **kwargs):
        with self.precondition():
            report = step(user=self.request.user, report=self.get_object(), **kwargs)
        return self.with_etag(Response(ProgressReportSerializer(report, context=self.get_serializer_context()).data))

    @extend_schema(summary="提交审核", request=None, responses=ProgressReportSerializer, parameters=[IF_MATCH])
    @action(detail=True, methods=["post"])
    def submit(self, request, *args, **kwargs):
        return self.transition(services.submit_report)

    @extend_schema(summary="审核通过", request=ReviewSerializer, responses=ProgressReportSerializer, parameters=[IF_MATCH])
    @action(detail=True, methods=["post"])
    def approve(self, request, *args, **kwargs):
        review = ReviewSerializer(data=request.data)
        review.is_valid(raise_exception=True)
        return self.transition(services.approve_report, note=review.validated_data.get("review_note", ""))

    @extend_schema(
        summary="退回（须填审核意见）", request=ReviewSerializer, responses=ProgressReportSerializer, parameters=[IF_MATCH]
    )
    @action(detail=True, methods=["post"], url_path="return")
    def return_(self, request, *args, **kwargs):
        review = ReviewSerializer(data=request.data)
        review.is_valid(raise_exception=True)
        return self.transition(services.return_report, note=review.validated_data.get("review_note", ""))

    @extend_schema(
        summary="批量导入填报",
        description=(
            "上传 CSV/xlsx 文件（multipart，字段 file），或提交 JSON 对象列表（键为 region、year、kind、item、"
            "target、period_end、value、qualifier、note）。按自然键（地区代码、年度、计划类型、事项序号、指标编号、"
            "截至日期）匹配：已有的草稿或退回填报被更新，相同的不变，其余新建为草稿。全部成功才写入；"
            "有任何错误时返回 400 和逐行错误，什么都不写。JSON 请求体受 2.5 MB 限制，大批量请上传文件。"
        ),
        parameters=[DRY_RUN],
        request={"multipart/form-data": ImportUploadSerializer, "application/json": {"type": "array", "items": {"type": "object"}}},
        responses={200: ImportResultSerializer, 400: ImportResultSerializer},
        filters=False,
    )
    @action(detail=False, methods=["post"], url_path="import", parser_classes=[MultiPartParser, JSONBodyParser])
    def import_(self, request, *args, **kwargs):
        dry_run = bool(parse_param(request, "dry_run", serializers.BooleanField()))
        if isinstance(request.data, list):
            rows, first_row = request.data, 1
        else:
            upload = request.FILES.get("file")
            if upload is None:
                raise exceptions.ValidationError({"file": [_("请上传 CSV 或 Excel 文件（字段名 file），或提交 JSON 列表")]})
            try:
                rows = importing.read_table(upload)
            except importing.ImportFileError as error:
                raise exceptions.ValidationError({"file": [str(error)]}) from None
            first_row = 2
        result = importing.import_reports(user=request.user, rows=rows, dry_run=dry_run, first_row=first_row)
        return Response(
            ImportResultSerializer(result).data,
            status=status.HTTP_400_BAD_REQUEST if result.errors else status.HTTP_200_OK,
        )


# --- Summary -------------------------------------------------------------------------


def region_grouping(region):
    """The child of `region` that each target's region lies in (or the region itself), as code and name.

    Without a region, the province. The hierarchy is three levels deep, so two
    levels of parent cover every case.
    """
    here, up, top = "programme__region", "programme__region__parent", "programme__region__parent__parent"
    if region is None:
        conditions = [Q(**{f"{here}__parent__isnull": True}), Q(**{f"{up}__parent__isnull": True})]
        columns = [here, up, top]
    else:
        conditions = [Q(**{f"{here}__parent": region.code}), Q(**{f"{up}__parent": region.code})]
        columns = [here, up, here]
    key = Case(*[When(c, then=F(col)) for c, col in zip(conditions, columns)], default=F(columns[2]))
    name = Case(*[When(c, then=F(f"{col}__name")) for c, col in zip(conditions, columns)], default=F(f"{columns[2]}__name"))
    return key, name


def group_columns(group_by, region):
    """The key and name of the group a target or tally falls in (both reach their programme as `programme`)."""
    if group_by == "region":
        return region_grouping(region)
    if group_by == "programme":
        return F("programme_id"), Concat("programme__region__name", Value(" "), "programme__title")
    return F("item__category"), F("item__category")


TALLIED = ("targets", *Target.Status.values, "pending_reports", "completion_sum", "with_value")


def summary_groups(group_by, region, targets, tallies=None):
    """Per group: target count, count per status, mean completion and pending reports.

    The programmes of `tallies` are added up from them; `targets` (or none)
    are judged one by one. One aggregate query each.
    """
    key, name = group_columns(group_by, region)
    groups = {}

    def group_of(row):
        key = str(row["group_key"])
        if key not in groups:
            label = Category(row["group_key"]).label if group_by == "category" else row["group_name"]
            groups[key] = {"key": key, "name": str(label), **dict.fromkeys(TALLIED, 0)}
        return groups[key]

    if tallies is not None:
        rows = (
            tallies.filter(targets__gt=0).order_by().values(group_key=key, group_name=name)
            .annotate(**{f"sum_{figure}": Sum(figure) for figure in TALLIED})
        )
        for row in rows:
            group = group_of(row)
            for figure in TALLIED:
                group[figure] += row[f"sum_{figure}"]
    # Grouped by status too, so that each target's status is computed once
    # rather than once per status column; the statuses are folded here.
    rows = [] if targets is None else (
        targets.order_by()
        .values(group_key=key, group_name=name, group_status=F("status"))
        .annotate(
            targets=Count("pk"),
            # A target with a target value but no approved report is 0 % done, not unknown.
            completion_sum=Sum(Coalesce("completion", Value(0.0)), filter=Q(target_value__isnull=False)),
            with_value=Count("pk", filter=Q(target_value__isnull=False)),
            pending_reports=Coalesce(Sum("pending_count"), 0),
        )
    )
    for row in rows:
        group = group_of(row)
        group["targets"] += row["targets"]
        group[row["group_status"]] += row["targets"]
        group["pending_reports"] += row["pending_reports"]
        group["completion_sum"] += row["completion_sum"] or 0.0
        group["with_value"] += row["with_value"]
    result = []
    for key in sorted(groups, key=lambda k: (int(k) if group_by == "programme" else k)):
        group = groups[key]
        total, count = group.pop("completion_sum"), group.pop("with_value")
        group["mean_completion"] = total / count if count else None
        result.append(group)
    return result


class SummaryView(ConditionalGetMixin, generics.GenericAPIView):
    """Counts per status, mean completion and reports awaiting review, per region, category or programme.

    group_by=region groups by the child of the requested region: region=320000
    gives one row per city, region=320600 one per district, and no region one
    per province. Targets of a programme attached to the requested region
    itself are grouped under that region. The ETag hashes the result, so a
    polling screen gets 304 when nothing changed.
    """

    serializer_class = SummarySerializer
    permission_classes = [ReadPolicy]
    pagination_class = None
    filter_backends = []
    action = "summary"

    @extend_schema(summary="统计汇总", parameters=[SummaryQuerySerializer], responses=SummarySerializer)
    def get(self, request, *args, **kwargs):
        params = SummaryQuerySerializer(data=request.query_params, context={"request": request})
        params.is_valid(raise_exception=True)
        query = params.validated_data
        as_of, region = query.get("as_of"), query.get("region")
        today = timezone.localdate()
        year, group_by = query.get("year") or (as_of or today).year, query["group_by"]
        programmes = visible(Programme, request).filter(year=year)
        if region is not None:
            programmes = programmes.filter(region__in=Region.objects.subtree(region.code))
        if query.get("kind"):
            programmes = programmes.filter(kind=query["kind"])
        if as_of is None and group_by != "category":
            # Today's figures per programme are kept in its tally; the
            # programmes whose tally does not hold today are judged target
            # by target, which gives the same figures, only slower.
            current = ProgrammeTally.objects.current(today).filter(year=year)
            uncounted = list(
                programmes.filter(~Exists(current.filter(pk=OuterRef("pk")))).order_by().values_list("pk", flat=True)
            )
            # The programmes found uncounted are excluded by name: a tally
            # recounted since holds today, and must not be added twice. One
            # current a moment ago still is, whatever happened since.
            tallies = current.filter(programme__in=programmes).exclude(pk__in=uncounted)
            targets = Target.objects.with_progress().filter(programme__in=uncounted) if uncounted else None
        else:
            tallies = None
            targets = Target.objects.with_progress(as_of=as_of).filter(programme__in=programmes, year=year)
        data = {
            "year": year,
            "as_of": as_of,
            "group_by": group_by,
            "region": region.code if region else None,
            "groups": summary_groups(group_by, region, targets, tallies),
        }
        return self.conditional_on_content(Response(SummarySerializer(data).data))


# --- Tokens --------------------------------------------------------------------------


@extend_schema(
    summary="用用户名和密码换取令牌",
    description="返回该用户的令牌（已有则返回原令牌）。之后的请求带上 `Authorization: Token <token>`。",
    request=inline_serializer(
        "Credentials",
        {
            "username": serializers.CharField(help_text="用户名"),
            "password": serializers.CharField(help_text="密码"),
        },
    ),
    responses=inline_serializer("Token", {"token": serializers.CharField(help_text="API 令牌")}),
    auth=[],
)
class TokenView(ObtainAuthToken):
    # authtoken's own view is unthrottled; a password guesser is anonymous.
    throttle_classes = [AnonThrottle]


@csrf_exempt  # it changes nothing, and token clients send no CSRF token: a POST must get the 404 too
def not_found(request, *args, **kwargs):
    """Any other URL under /api/v1/ (/targets/0.5/, a typo): a JSON 404 like the API's own, not Django's HTML page.

    A plain view, so it stays out of the schema.
    """
    return JsonResponse({"detail": str(exceptions.NotFound.default_detail)}, status=404, json_dumps_params={"ensure_ascii": False})
