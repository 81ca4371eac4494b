"""progress-reports/: entry, edits, the review workflow and imports, each through a service."""

import contextlib

from django.db import transaction
from django.db.models import Count, Max
from django.http import HttpResponseNotModified
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.http import parse_etags
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response

from .. import importing, services
from ..db import lock
from ..models import ProgressReport, Target
from .base import ApiViewSet, visible
from .errors import PreconditionFailed
from .filters import ProgressReportFilter
from .pagination import ReportCursor
from .params import CSV_RESPONSE, DRY_RUN, FORMAT, IF_MATCH, parse_param
from .parsers import JSONBodyParser
from .renderers import CSVRenderer
from .serializers import (
    ImportResultSerializer,
    ImportUploadSerializer,
    ProgressReportSerializer,
    ProgressReportUpdateSerializer,
    ReturnSerializer,
    ReviewSerializer,
)


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
    csv_exclude = ["steps"]

    def get_queryset(self):
        # Newest first for CSV too; pages get the same order from the cursor.
        queryset = visible(ProgressReport, self.request).order_by("-id")
        return queryset.select_related("target__programme", "target__item", "created_by", "reviewed_by")

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
        # The path without the query string, as detail_etag() hashes it: an ETag read
        # from /42/?format=json must pass If-Match on /42/approve/.
        etag = self.etag_for(sorted(queryset.aggregate(**self.etag_aggregates()).items()), path=request.path)
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
        if request.headers.get("If-Match"):
            # A malformed body is a 400 whatever the version: checked before the precondition's 412.
            partial = kwargs.get("partial", False)
            self.get_serializer(self.get_object(), data=request.data, partial=partial).is_valid(raise_exception=True)
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
        summary="退回（须填审核意见）", request=ReturnSerializer, responses=ProgressReportSerializer, parameters=[IF_MATCH]
    )
    @action(detail=True, methods=["post"], url_path="return")
    def return_(self, request, *args, **kwargs):
        review = ReturnSerializer(data=request.data)
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
