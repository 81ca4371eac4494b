"""/api/v1/public/: what the 公示 pages show, as JSON, for anonymous clients.

The same content as the pages (tracking/public/selectors.region_page()):
approved figures only, no user, note, review note or pending value, and
evidence only where a reviewer published it (a link to /gongshi/evidence/). Open only with TRACKING_PUBLIC_READ (404 otherwise); no
authentication is read, so the answer is the same for everyone and cached as
public, with the pages' ETags (tracking/public/caching.py).
"""

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from ..models import Programme, Region, Target
from ..public import selectors
from ..public.caching import public_response

FIGURE = {"max_digits": 30, "decimal_places": 4, "coerce_to_string": False}


class PublicRegionSerializer(serializers.Serializer):
    code = serializers.CharField(help_text=_("行政区划代码"))
    name = serializers.CharField(help_text=_("名称"))
    union_name = serializers.CharField(help_text=_("工会名称"))


class PublicPointSerializer(serializers.Serializer):
    period_end = serializers.DateField(help_text=_("已审核填报的截至日期"))
    progress = serializers.DecimalField(**FIGURE, help_text=_("此次填报后的进度（累加或取最新）"))
    completion = serializers.FloatField(allow_null=True, help_text=_("此次填报后的完成率（百分比）；无目标值时为 null"))


class PublicEvidenceSerializer(serializers.Serializer):
    period_end = serializers.DateField(help_text=_("该佐证材料所属已审核填报的截至日期"))
    # A path, not a full URL: the answer is kept and sent to everyone, whatever host they asked.
    url = serializers.SerializerMethodField(help_text=_("下载地址（本站路径）"))

    @extend_schema_field(serializers.CharField())
    def get_url(self, evidence):
        return reverse("public:evidence", args=[evidence["id"]])


class PublicTargetSerializer(serializers.Serializer):
    code = serializers.CharField(help_text=_("编号"))
    name = serializers.CharField(help_text=_("指标名称"))
    unit = serializers.CharField(help_text=_("单位"))
    target_value = serializers.DecimalField(**FIGURE, allow_null=True, help_text=_("目标值；仅填报数据的指标为 null"))
    measure = serializers.ChoiceField(choices=Target.Measure.choices, help_text=_("计量方式"))
    aggregation = serializers.ChoiceField(choices=Target.Aggregation.choices, help_text=_("汇总方式"))
    due_date = serializers.DateField(help_text=_("完成期限"))
    progress = serializers.DecimalField(**FIGURE, allow_null=True, help_text=_("已审核通过的进度；尚无时为 null"))
    completion = serializers.FloatField(allow_null=True, help_text=_("完成率（百分比，未封顶）"))
    expected = serializers.FloatField(help_text=_("按时间今天应完成的进度（百分比）"))
    status = serializers.ChoiceField(choices=Target.Status.choices, help_text=_("状态"))
    last_reported_on = serializers.DateField(allow_null=True, help_text=_("最近一次已审核填报的截至日期"))
    series = PublicPointSerializer(many=True, help_text=_("进度随时间的变化：每次已审核填报后的进度"))
    evidence = PublicEvidenceSerializer(many=True, help_text=_("审核员公开的佐证材料"))


class PublicItemSerializer(serializers.Serializer):
    number = serializers.IntegerField(help_text=_("序号"))
    title = serializers.CharField(help_text=_("标题"))
    category = serializers.CharField(help_text=_("类别"))
    targets = PublicTargetSerializer(many=True, help_text=_("指标"))


class PublicProgrammeSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Programme.Kind.choices, help_text=_("类型"))
    title = serializers.CharField(help_text=_("标题"))
    year = serializers.IntegerField(help_text=_("年度"))
    period_start = serializers.DateField(help_text=_("起始日期"))
    period_end = serializers.DateField(help_text=_("截止日期"))
    items = PublicItemSerializer(many=True, help_text=_("事项"))


class PublicChildSerializer(serializers.Serializer):
    code = serializers.CharField(help_text=_("行政区划代码"))
    name = serializers.CharField(help_text=_("名称"))
    targets = serializers.IntegerField(help_text=_("指标个数"))
    not_started = serializers.IntegerField(help_text=_("未开始的指标个数"))
    on_track = serializers.IntegerField(help_text=_("进行中的指标个数"))
    behind = serializers.IntegerField(help_text=_("滞后的指标个数"))
    overdue = serializers.IntegerField(help_text=_("逾期的指标个数"))
    achieved = serializers.IntegerField(help_text=_("已完成的指标个数"))
    reported = serializers.IntegerField(help_text=_("无目标值、已填报的指标个数"))
    mean_completion = serializers.FloatField(allow_null=True, help_text=_("有目标值的指标的平均完成率（百分比）"))


class PublicRegionPageSerializer(serializers.Serializer):
    region = PublicRegionSerializer(help_text=_("地区"))
    parent = PublicRegionSerializer(allow_null=True, help_text=_("上级地区"))
    year = serializers.IntegerField(help_text=_("所示年度"))
    last_reported_on = serializers.DateField(allow_null=True, help_text=_("该地区及下级最近一次已审核填报的截至日期"))
    programmes = PublicProgrammeSerializer(many=True, help_text=_("本级的计划、事项和指标"))
    children = PublicChildSerializer(many=True, help_text=_("下级地区及其统计"))


def json_response(data):
    return HttpResponse(JSONRenderer().render(data), content_type="application/json")


class PublicView(APIView):
    # No authentication is read: the answer is the same for a token, a session or nobody.
    authentication_classes = []
    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer]

    def initial(self, request, *args, **kwargs):
        # A method no public view has is a 405 whether publishing is on or off, as everywhere else.
        method = request.method.lower()
        if method not in self.http_method_names or not hasattr(self, method):
            self.http_method_not_allowed(request, *args, **kwargs)
        if not settings.TRACKING_PUBLIC_READ:
            raise Http404
        super().initial(request, *args, **kwargs)


class PublicRegionsView(PublicView):
    """The top regions (provinces) whose 公示 can be read."""

    @extend_schema(summary="公示：省级地区", responses=PublicRegionSerializer(many=True))
    def get(self, request):
        return public_response(
            request, lambda: json_response(PublicRegionSerializer(selectors.top_regions(), many=True).data)
        )


class PublicRegionView(PublicView):
    """A region's 公示: its programmes with approved progress, status and series; its children's figures."""

    @extend_schema(
        summary="公示：地区进展", responses=PublicRegionPageSerializer,
        parameters=[OpenApiParameter("code", str, OpenApiParameter.PATH, description=_("地区的行政区划代码"))],
    )
    def get(self, request, code):
        def respond():
            region = get_object_or_404(Region.objects.select_related("parent"), code=code)
            return json_response(PublicRegionPageSerializer(selectors.region_page(region)).data)

        return public_response(request, respond)
