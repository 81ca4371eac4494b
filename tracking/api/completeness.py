"""completeness/: which regions reported for which periods, on time or not, and the rates (DHIS2's).

?programme=ID gives that programme's row; ?region=CODE&year=Y the annual plans
of the region's subtree, a row for the region's own plan and one per child
region adding up its subtree (no region: the user's own region, or the
country by province for a superuser). ?format=csv or xlsx downloads the grid.
The figures come from tracking.followup.selectors.grid(), as the admin's grid.
"""

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, serializers
from rest_framework.renderers import BaseRenderer, BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response

from ..followup import selectors
from ..followup.export import grid_dataset
from ..exports import spreadsheet_response
from ..models import Programme, Region
from .base import NamedFormatOnly, ReadPolicy, visible
from .conditional import ConditionalGetMixin
from .params import CSV_RESPONSE
from .serializers import PeriodSerializer


class SpreadsheetRenderer(BaseRenderer):
    """Lets ?format=csv and ?format=xlsx through content negotiation; the view answers with the file itself."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


class CSVDownload(SpreadsheetRenderer):
    media_type, format = "text/csv", "csv"


class XLSXDownload(SpreadsheetRenderer):
    media_type, format = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"


class CompletenessQuerySerializer(serializers.Serializer):
    programme = serializers.IntegerField(required=False, min_value=1, help_text=gettext_lazy("计划 id：只看该计划"))
    region = serializers.CharField(required=False, help_text=gettext_lazy("地区代码：该地区及其下级的年度计划；默认本人所在地区"))
    year = serializers.IntegerField(required=False, min_value=1900, max_value=2999,
                                    help_text=gettext_lazy("年度（与 region 一起用）；默认今年"))
    as_of = serializers.DateField(required=False, help_text=gettext_lazy("按此日期判断是否到期、是否按时（YYYY-MM-DD）；默认今天"))

    def to_internal_value(self, data):
        empty = {name: [_("参数不能为空；不需要时请省略")] for name in self.fields if data.get(name) == ""}
        if empty:
            raise serializers.ValidationError(empty)
        return super().to_internal_value(data)

    def validate(self, attrs):
        if "programme" in attrs and ("region" in attrs or "year" in attrs):
            raise serializers.ValidationError(_("programme 与 region、year 只能二选一"))
        return attrs


class TallySerializer(serializers.Serializer):
    expected = serializers.IntegerField(help_text=gettext_lazy("应报数：已到期、且地区在整个期间内存在的“地区×期间”个数"))
    reported = serializers.IntegerField(help_text=gettext_lazy("实报数：已提交或已通过"))
    on_time = serializers.IntegerField(help_text=gettext_lazy("按时报送数：在报送期限当天或之前提交"))
    reporting_rate = serializers.DecimalField(max_digits=4, decimal_places=1, allow_null=True,
                                              help_text=gettext_lazy("报送率 = 实报数 / 应报数 × 100；无应报时为 null"))
    on_time_rate = serializers.DecimalField(max_digits=4, decimal_places=1, allow_null=True,
                                            help_text=gettext_lazy("及时率 = 按时报送数 / 应报数 × 100；无应报时为 null"))


class CellSerializer(TallySerializer):
    period = serializers.CharField(help_text=gettext_lazy("期间标识，如 2024-03、2024Q1"))
    state = serializers.ChoiceField(
        choices=list(selectors.STATES.items()), allow_null=True,
        help_text=gettext_lazy("该行只有一个计划时的状态：on_time、late、draft_only、returned、missing、not_due；汇总行为 null"),
    )
    programme = serializers.IntegerField(allow_null=True, help_text=gettext_lazy("该格的计划 id（汇总行为 null）"))


class RowSerializer(TallySerializer):
    region = serializers.CharField(help_text=gettext_lazy("地区代码"))
    name = serializers.CharField(help_text=gettext_lazy("地区名称"))
    own = serializers.BooleanField(help_text=gettext_lazy("true：该地区本级的计划；false：该下级地区及其所有下级的汇总"))
    cells = CellSerializer(many=True, help_text=gettext_lazy("各期间；地区不存在或计划不含该期间时没有这一格"))


class CompletenessSerializer(serializers.Serializer):
    region = serializers.CharField(allow_null=True, help_text=gettext_lazy("所查地区；null 为全国（按省）"))
    year = serializers.IntegerField(allow_null=True, help_text=gettext_lazy("年度"))
    programme = serializers.IntegerField(allow_null=True, help_text=gettext_lazy("按计划查询时的计划 id，否则为 null"))
    as_of = serializers.DateField(help_text=gettext_lazy("判断到期与按时所用的日期"))
    periods = PeriodSerializer(many=True, help_text=gettext_lazy("各列的期间，按时间顺序"))
    rows = RowSerializer(many=True, help_text=gettext_lazy("本级计划一行（如有），其后每个下级地区一行"))
    total = TallySerializer(help_text=gettext_lazy("全部行的合计"))


def tally_data(tally):
    return selectors.as_dict(tally)


def grid_data(grid, *, region, year, programme):
    return {
        "region": region.pk if region else None, "year": year, "programme": programme, "as_of": grid.as_of,
        "periods": [
            {"key": p.key, "label": str(p.label), "start": p.start, "end": p.end, "due": p.due} for p in grid.columns
        ],
        "rows": [
            {
                "region": row.region.pk, "name": row.region.name, "own": row.own, **tally_data(row.tally),
                "cells": [
                    {"period": key, "state": cell.state, "programme": cell.programme_id, **tally_data(cell.tally)}
                    for key, cell in row.cells.items()
                ],
            }
            for row in grid.rows
        ],
        "total": tally_data(grid.tally),
    }


def grid_for(request, query):
    """(grid, region, year, programme id) for a request's validated query, within the user's regions."""
    as_of = query.get("as_of") or timezone.localdate()
    programmes = visible(Programme, request)
    if "programme" in query:
        programme = programmes.select_related("region").filter(pk=query["programme"]).first()
        if programme is None:
            raise exceptions.NotFound(_("未找到该计划，或无权查看"))
        grid = selectors.grid(region=programme.region, programmes=programmes.filter(pk=programme.pk), as_of=as_of)
        return grid, programme.region, programme.year, programme.pk
    year = query.get("year") or as_of.year
    if "region" in query:
        region = visible(Region, request).filter(pk=query["region"]).first()
        if region is None:
            raise exceptions.NotFound(_("未找到地区 %(code)s，或无权查看") % {"code": query["region"]})
    else:
        membership = getattr(request.user, "membership", None)
        region = membership.region if membership is not None else None
        if region is None and not (request.user.is_superuser or not request.user.is_authenticated):
            raise exceptions.NotFound(_("您还没有所属地区"))
    grid = selectors.grid(
        region=region, programmes=programmes.filter(year=year, kind=Programme.Kind.ANNUAL_PLAN), as_of=as_of
    )
    return grid, region, year, None


class CompletenessView(NamedFormatOnly, ConditionalGetMixin, generics.GenericAPIView):
    """Completeness and timeliness: for each region and reporting period, whether it reported on time.

    A cell's state (for a row of one plan): on_time (submitted on or before the due date), late,
    draft_only, returned, missing, or not_due (nothing yet, and not due yet). Each row and the total
    give DHIS2's reporting rate (reports received / expected × 100) and on-time rate (received by the due
    date / expected × 100), counting only periods already due in which the region existed throughout.
    """

    serializer_class = CompletenessSerializer
    permission_classes = [ReadPolicy]
    pagination_class = None
    filter_backends = []
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, CSVDownload, XLSXDownload]
    action = "completeness"
    etag_depends_on_today = True

    def handle_exception(self, exc):
        # A refusal is JSON whatever file was asked for: a spreadsheet cannot say what was wrong.
        if isinstance(getattr(self.request, "accepted_renderer", None), SpreadsheetRenderer):
            self.request.accepted_renderer, self.request.accepted_media_type = JSONRenderer(), "application/json"
        return super().handle_exception(exc)

    @extend_schema(
        summary="报送完整性与及时性",
        parameters=[
            CompletenessQuerySerializer,
            OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv", "xlsx"],
                             description="csv 或 xlsx：下载表格（每行一个地区，每列一个期间）"),
        ],
        responses={
            (200, "application/json"): CompletenessSerializer,
            (200, "text/csv"): CSV_RESPONSE,
            (200, XLSXDownload.media_type): OpenApiResponse(OpenApiTypes.BINARY, description="format=xlsx 时：Excel 文件"),
        },
    )
    def get(self, request, *args, **kwargs):
        params = CompletenessQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        grid, region, year, programme = grid_for(request, params.validated_data)
        fmt = getattr(request.accepted_renderer, "format", "json")
        if fmt in ("csv", "xlsx"):
            name = f"completeness-{region.pk if region else 'all'}-{year}"
            return spreadsheet_response(grid_dataset(grid), fmt, name)
        data = grid_data(grid, region=region, year=year, programme=programme)
        return self.conditional_on_content(Response(CompletenessSerializer(data).data))
