"""targets/: targets with progress, completion, expected progress and status; and each one's history."""

from django.utils.functional import cached_property
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response

from ..models import Target
from ..progress import progress_series
from .base import ApiViewSet, StrictOrdering, StrictSearch, visible
from .filters import TargetFilter
from .pagination import IdsFirstPaginator, PageNumber
from .params import AS_OF, CSV_RESPONSE, FORMAT, parse_param
from .renderers import CSVRenderer
from .rows import row_paths
from .serializers import HistoryPointSerializer, TargetSerializer


class TargetPage(PageNumber):
    def django_paginator_class(self, queryset, page_size):
        return IdsFirstPaginator(queryset, page_size, rows=target_rows)


def target_rows(queryset):
    """Targets as the values() rows TargetSerializer's RowsSerializer turns into JSON."""
    return queryset.values(*row_paths(TargetSerializer))


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
    filter_backends = [DjangoFilterBackend, StrictSearch, StrictOrdering]
    search_fields = ["name"]
    ordering_fields = ["completion", "name", "last_reported_on", "item_number"]
    ordering_sources = {"item_number": "item__number"}
    # Codes in natural order (1.2 before 1.10): with ?year= a page is a range of
    # the (year, programme, code_key, id) index rather than a sort of every target.
    ordering = ["programme_id", "code_key"]
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
        for row in progress_series(target)
    ]
    return HistoryPointSerializer(points, many=True).data
