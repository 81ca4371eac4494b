"""Shapes of the API's JSON.

Fields are listed explicitly; everything a client may not set is read-only.
Writes go through tracking.services, so no serializer here saves anything
itself: the views pass validated_data to a service function. List pages and
the programme detail are rendered from values() rows (tracking.api.rows).
"""

from decimal import Decimal

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import extend_schema_field

from .. import workflow
from ..followup.calendar import FREQUENCY_CHOICES
from ..importing import parse_value
from ..models import VALUE_FIELD, Category, Item, Programme, ProgressReport, Region, Target
from .rows import RowsSerializer


def figure(**kwargs):
    """A decimal figure as it comes out of with_progress(), rendered as a JSON number."""
    return serializers.DecimalField(**VALUE_FIELD, read_only=True, **kwargs)


class RegionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["code", "name", "union_name", "level", "parent"]
        read_only_fields = fields
        extra_kwargs = {
            "code": {"help_text": _("6位行政区划代码，也是该地区在 URL 中的标识")},
            "name": {"help_text": _("地区名称")},
            "union_name": {"help_text": _("工会名称")},
            "level": {"help_text": _("级别：省、市或区/县")},
            "parent": {"help_text": _("上级地区的行政区划代码；省级为 null")},
        }


class ProgressFields(serializers.Serializer):
    """The figures with_progress() annotates, shared by flat and nested targets."""

    progress = figure(allow_null=True, label=_("进度"), help_text=_("已通过填报的累计值（sum）或最新值（latest）；无则为 null"))
    completion = serializers.FloatField(
        read_only=True, allow_null=True, label=_("完成率"), help_text=_("进度占目标值的百分比；无目标值或尚无进度时为 null")
    )
    expected = serializers.FloatField(read_only=True, label=_("应完成"), help_text=_("计划期间已过去的百分比（按 as_of 或今天）"))
    status = serializers.ChoiceField(
        choices=Target.Status.choices, read_only=True, label=_("状态"),
        help_text=_(
            "进度状态：not_started 未开始（尚无进度，已过时间未超出容差）、on_track 进行中、"
            "behind 滞后（完成率落后于时间进度超过容差，无进度计为 0）、overdue 逾期（已过完成期限仍未完成）、"
            "achieved 已完成、reported 已填报（无目标值）"
        ),
    )
    last_reported_on = serializers.DateField(
        read_only=True, allow_null=True, label=_("最近填报"), help_text=_("最近一次已通过填报的截至日期")
    )
    pending_value = figure(label=_("待审核数值"), help_text=_("已提交、待审核的填报数值之和"))
    pending_count = serializers.IntegerField(read_only=True, label=_("待审核条数"), help_text=_("已提交、待审核的填报条数"))


TARGET_FIELD_HELP = {
    "id": {"help_text": _("指标 id")},
    "code": {"help_text": _("在计划内唯一的编号，例如 4.1")},
    "name": {"help_text": _("指标名称")},
    "unit": {"help_text": _("单位")},
    "measure": {"help_text": _("计量方式")},
    "aggregation": {"help_text": _("sum：每次填报为增量；latest：取最新一次填报")},
    "target_value": {"help_text": _("目标值；仅有填报数据、未公布目标的指标为 null")},
    "due_date": {"help_text": _("完成期限")},
    "updated_at": {"help_text": _("最后变动时间，进度变动也会更新")},
}
NESTED_TARGET_FIELDS = [
    "id", "code", "name", "unit", "measure", "aggregation", "target_value", "due_date",
    *ProgressFields._declared_fields,
]


class TargetSerializer(ProgressFields, serializers.ModelSerializer):
    region = serializers.CharField(
        source="programme.region_id", read_only=True, label=_("地区代码"), help_text=_("所属地区的行政区划代码")
    )
    item_number = serializers.IntegerField(source="item.number", read_only=True, label=_("事项序号"), help_text=_("事项序号"))
    item_title = serializers.CharField(source="item.title", read_only=True, label=_("事项"), help_text=_("事项标题"))
    category = serializers.ChoiceField(
        source="item.category", choices=Category.choices, read_only=True, label=_("类别"), help_text=_("事项类别")
    )

    class Meta:
        model = Target
        fields = [
            "id", "programme", "region", "item_number", "item_title", "category",
            "code", "name", "unit", "measure", "aggregation", "target_value", "due_date",
            *ProgressFields._declared_fields, "updated_at",
        ]
        read_only_fields = fields
        extra_kwargs = {**TARGET_FIELD_HELP, "programme": {"help_text": _("计划 id")}}
        list_serializer_class = RowsSerializer


class NestedTargetSerializer(ProgressFields, serializers.ModelSerializer):
    """A target inside its programme's detail, without the fields the programme already gives."""

    class Meta:
        model = Target
        fields = NESTED_TARGET_FIELDS
        read_only_fields = fields
        extra_kwargs = TARGET_FIELD_HELP
        list_serializer_class = RowsSerializer


class ItemSerializer(serializers.ModelSerializer):
    targets = NestedTargetSerializer(many=True, read_only=True, help_text=_("该事项的指标及其进度"))

    class Meta:
        model = Item
        fields = ["id", "number", "title", "text", "category", "targets"]
        read_only_fields = fields
        extra_kwargs = {
            "id": {"help_text": _("事项 id")},
            "number": {"help_text": _("事项序号")},
            "title": {"help_text": _("事项标题")},
            "text": {"help_text": _("事项全文")},
            "category": {"help_text": _("事项类别")},
        }


class ProgrammeSerializer(serializers.ModelSerializer):
    # Blank means "the settings' default" (tracking.followup.calendar.rule_of): part of the enum.
    reporting_frequency = serializers.ChoiceField(
        choices=FREQUENCY_CHOICES, allow_blank=True, read_only=True,
        help_text=_("填报频次：monthly、quarterly、half_yearly、once；空为系统默认"),
    )

    class Meta:
        model = Programme
        fields = [
            "id", "region", "kind", "title", "description", "year", "period_start", "period_end",
            "source_document", "reporting_frequency", "due_days", "updated_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "id": {"help_text": _("计划 id")},
            "region": {"help_text": _("所属地区的行政区划代码")},
            "kind": {"help_text": _("计划类型")},
            "title": {"help_text": _("标题")},
            "description": {"help_text": _("说明")},
            "period_start": {"help_text": _("起始日期")},
            "period_end": {"help_text": _("截止日期")},
            "source_document": {"help_text": _("来源文件")},
            "due_days": {"help_text": _("每期结束后多少天内报送；null 为系统默认")},
            "updated_at": {"help_text": _("计划本身的最后修改时间")},
        }


class PeriodSerializer(serializers.Serializer):
    """One reporting period of a programme's calendar (tracking.followup.calendar)."""

    key = serializers.CharField(help_text=_("期间标识：2024-03（月）、2024Q1（季度）、2024H1（半年）或起始日期（一次）"))
    label = serializers.CharField(help_text=_("期间名称，如“3月”“第1季度”"))
    start = serializers.DateField(help_text=_("期间第一天"))
    end = serializers.DateField(help_text=_("期间最后一天"))
    due = serializers.DateField(help_text=_("报送期限：当天或之前提交为按时"))


class ProgrammeDetailSerializer(ProgrammeSerializer):
    items = ItemSerializer(many=True, read_only=True, help_text=_("按序号排列的事项，各含其指标"))
    periods = PeriodSerializer(many=True, read_only=True, help_text=_("填报期间及各期报送期限，按频次和期限规则得出"))

    class Meta(ProgrammeSerializer.Meta):
        fields = [*ProgrammeSerializer.Meta.fields, "items", "periods"]
        read_only_fields = fields


class HistoryPointSerializer(serializers.Serializer):
    date = serializers.DateField(help_text=_("填报的截至日期"))
    value = serializers.DecimalField(**VALUE_FIELD, help_text=_("该次填报的数值"))
    progress = serializers.DecimalField(**VALUE_FIELD, help_text=_("截至该日的进度：sum 为累计值，latest 为该次数值"))
    completion = serializers.FloatField(allow_null=True, help_text=_("截至该日的完成率（百分比）；无目标值时为 null"))


REPORT_FIELD_HELP = {
    "id": {"help_text": _("填报 id")},
    "target": {"help_text": _("指标 id")},
    "period_end": {"help_text": _("截至日期，须在计划期间内且不晚于今天；每个指标每天一条")},
    "value": {"help_text": _(
        "数值（非负）；sum 指标为本期增量，latest 指标为截至该日的累计值或比率。"
        "也可以是字符串，与导入相同：\"12,000\" 和全角 \"１２０００\" 都是 12000"
    )},
    "qualifier": {"help_text": _("限定：精确、以上、超过、约")},
    "note": {"help_text": _("备注")},
    "source_quote": {"help_text": _("来自文件的数据所依据的原句")},
    "status": {"help_text": _("审核状态，由提交、审核通过、退回操作改变")},
    "review_note": {"help_text": _("审核意见")},
    "reviewed_at": {"help_text": _("审核时间")},
    "created_at": {"help_text": _("创建时间")},
    "updated_at": {"help_text": _("最后修改时间")},
}


class EmptyChoiceRefused:
    """An empty choice in a form (kind=, qualifier=) is refused, as the same "" in JSON is.

    DRF reads an empty optional field of a multipart or urlencoded body as
    absent and takes the default, so a form could send what the schema's enum
    forbids and be answered 200.
    """

    def to_internal_value(self, data):
        if hasattr(data, "getlist"):  # a form's QueryDict; JSON arrives as a dict
            refused = {}
            for name, field in self.fields.items():
                choice = isinstance(field, serializers.ChoiceField) and not field.read_only and not field.allow_blank
                if choice and data.get(name) == "":
                    try:
                        field.fail("invalid_choice", input="")
                    except serializers.ValidationError as error:
                        refused[name] = error.detail
            if refused:
                raise serializers.ValidationError(refused)
        return super().to_internal_value(data)


class TextField(serializers.CharField):
    """Text that must be sent as text: "note": 0 is a mistake, not the note "0"."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            raise serializers.ValidationError(_("应为文本（字符串）"))
        return super().to_internal_value(data)


class ReportValueField(serializers.DecimalField):
    """A report's value, read by the import's rule: "12,000" and full-width "１２０００" are 12000.

    One rule for the API's entries and edits and for every import, so a figure
    copied from a spreadsheet means the same whichever way it arrives.
    """

    def to_internal_value(self, data):
        if isinstance(data, str):
            try:
                data = parse_value(data)
            except ValueError as error:
                raise serializers.ValidationError(str(error)) from None
        return super().to_internal_value(data)


class ReportValueFieldSchema(OpenApiSerializerFieldExtension):
    """A value sent has at most decimal_places decimals (more is a 400): the schema says so with multipleOf.

    Only of requests: an answer's value is a binary float, which no reader
    can be asked to check against a decimal grid.
    """

    target_class = "tracking.api.serializers.ReportValueField"

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if direction == "request":
            schema["multipleOf"] = float(Decimal(1).scaleb(-self.target.decimal_places))
        return schema


class VisibleTargetField(serializers.PrimaryKeyRelatedField):
    """A target among those the requesting user may see (the one scoping rule).

    The browsable API lists this queryset as the form's <select>, so it must
    never be every district's targets; the JSON write path is refused again by
    the service's own region check.
    """

    def get_queryset(self):
        request = self.context.get("request")
        if request is None:
            return Target.objects.none()
        return Target.objects.visible_to(request.user).select_related("programme", "item")


class ProgressReportSerializer(EmptyChoiceRefused, serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DecimalField: ReportValueField,
        models.TextField: TextField,
        models.CharField: TextField,
    }

    # The target's natural key, under the import's headers (region above too), so
    # that a downloaded ?format=csv imports back (tracking.importing.COLUMNS).
    region = serializers.CharField(
        source="target.programme.region_id", read_only=True, label=_("地区代码"), help_text=_("指标所属地区的行政区划代码")
    )
    year = serializers.IntegerField(source="target.year", read_only=True, label=_("年度"), help_text=_("指标所属计划的年度"))
    kind = serializers.ChoiceField(
        source="target.programme.kind", choices=Programme.Kind.choices, read_only=True, label=_("计划类型"),
        help_text=_("指标所属计划的类型"),
    )
    item_number = serializers.IntegerField(
        source="target.item.number", read_only=True, label=_("事项序号"), help_text=_("指标所属事项的序号")
    )
    target_code = serializers.CharField(
        source="target.code", read_only=True, label=_("指标编号"), help_text=_("指标在计划内的编号，例如 4.1")
    )
    created_by = serializers.CharField(
        source="created_by.username", read_only=True, allow_null=True, label=_("填报人"), help_text=_("填报人用户名")
    )
    reviewed_by = serializers.CharField(
        source="reviewed_by.username", read_only=True, allow_null=True, label=_("审核人"), help_text=_("审核人用户名")
    )
    # With what the answer shows of it (region, year, kind, item number, code).
    target = VisibleTargetField(label=_("指标"), **REPORT_FIELD_HELP["target"])
    steps = serializers.SerializerMethodField(
        label=_("可进行的操作"),
        help_text=_("当前用户现在可以对该填报进行的操作（submit 提交审核、approve 审核通过、return 退回），由审核流程决定"),
    )

    class Meta:
        model = ProgressReport
        fields = [
            "id", "target", "region", "year", "kind", "item_number", "target_code", "period_end", "value", "qualifier",
            "note", "source_quote", "status", "created_by", "created_at", "reviewed_by", "reviewed_at", "review_note",
            "updated_at", "steps",
        ]
        read_only_fields = [
            "id", "region", "year", "kind", "item_number", "target_code", "source_quote", "status", "created_by",
            "created_at", "reviewed_by", "reviewed_at", "review_note", "updated_at", "steps",
        ]
        extra_kwargs = {
            **REPORT_FIELD_HELP,
        }
        # One report per target and date is checked by the service's
        # full_clean(), in the same transaction as the write.
        validators = []


    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=workflow.STATUS_STEPS)))
    def get_steps(self, report):
        request = self.context.get("request")
        if request is None:
            return []
        # Every report a request reaches is among its user's regions (the views start from visible_to()).
        return workflow.steps_for(request.user, report, in_scope=True)


class ProgressReportUpdateSerializer(ProgressReportSerializer):
    """A report's target is fixed once created: moving it would bypass the region check."""

    target = serializers.PrimaryKeyRelatedField(read_only=True, label=_("指标"), **REPORT_FIELD_HELP["target"])

    class Meta(ProgressReportSerializer.Meta):
        read_only_fields = [*ProgressReportSerializer.Meta.read_only_fields, "target"]
        extra_kwargs = REPORT_FIELD_HELP


class ReviewSerializer(serializers.Serializer):
    review_note = TextField(required=False, allow_blank=True, max_length=2000, help_text=_("审核意见（可选）"))


# A return says why: the note is required, and more than spaces (the pattern tells the schema).
class ReturnSerializer(serializers.Serializer):
    review_note = TextField(
        max_length=2000, validators=[RegexValidator(r"\S", _("退回时必须填写审核意见"))],
        error_messages={"blank": _("退回时必须填写审核意见"), "required": _("退回时必须填写审核意见")},
        help_text=_("审核意见；退回时必填"),
    )


class ImportRowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text=_("行号：文件中含表头的行号，JSON 列表中从 1 开始"))
    field = serializers.CharField(help_text=_("出错的列，整行问题时为空"))
    message = serializers.CharField(help_text=_("错误说明"))


class ImportResultSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField(help_text=_("为 true 时只校验，未写入任何数据"))
    created = serializers.IntegerField(help_text=_("新建的填报条数（草稿）"))
    updated = serializers.IntegerField(help_text=_("修改的填报条数"))
    unchanged = serializers.IntegerField(help_text=_("与已有数据相同、未改动的条数"))
    errors = ImportRowErrorSerializer(many=True, help_text=_("逐行错误；有错误时整个文件都不会写入"))


class ImportUploadSerializer(serializers.Serializer):
    """Only for the schema: the multipart form of the import."""

    file = serializers.FileField(help_text=_("CSV（UTF-8 或 GB18030）或 .xlsx 文件，首行为表头"))


class SummaryQuerySerializer(serializers.Serializer):
    GROUP_BY = [("region", _("地区")), ("category", _("类别")), ("programme", _("计划"))]

    year = serializers.IntegerField(
        required=False, min_value=1900, max_value=2999,
        help_text=_(
            "计划年度；默认与进度看板相同：as_of（默认今天）所在年份及以前有计划的最近一年，"
            "都没有时为有计划的最近一年"
        ),
    )
    as_of = serializers.DateField(required=False, help_text=_("按此日期计算进度（YYYY-MM-DD）；默认今天"))
    group_by = serializers.ChoiceField(choices=GROUP_BY, default="region", help_text=_("分组方式"))
    region = serializers.SlugRelatedField(
        slug_field="code", queryset=Region.objects.all(), required=False,
        help_text=_("只统计该地区及其下级；group_by=region 时按该地区的下一级分组"),
    )
    kind = serializers.ChoiceField(choices=Programme.Kind.choices, required=False, help_text=_("计划类型"))

    def to_internal_value(self, data):
        # As with the filters: ?region= is a mistake, not "every region".
        empty = {name: [_("参数不能为空；不需要时请省略")] for name in self.fields if data.get(name) == ""}
        if empty:
            raise serializers.ValidationError(empty)
        return super().to_internal_value(data)


class SummaryGroupSerializer(serializers.Serializer):
    key = serializers.CharField(help_text=_("分组标识：地区代码、类别代码或计划 id"))
    name = serializers.CharField(help_text=_("分组名称"))
    targets = serializers.IntegerField(help_text=_("指标个数"))
    not_started = serializers.IntegerField(help_text=_("未开始的指标个数：尚无进度，且已过时间未超出容差"))
    on_track = serializers.IntegerField(help_text=_("进行中的指标个数"))
    behind = serializers.IntegerField(help_text=_("滞后的指标个数：完成率（无进度计为 0）落后于时间进度超过容差"))
    overdue = serializers.IntegerField(help_text=_("逾期的指标个数：已过完成期限仍未完成"))
    achieved = serializers.IntegerField(help_text=_("已完成的指标个数"))
    reported = serializers.IntegerField(help_text=_("无目标值、已填报的指标个数"))
    mean_completion = serializers.FloatField(
        allow_null=True,
        help_text=_("有目标值的指标的平均完成率（百分比，未封顶；尚无进度的计为 0）；没有这类指标时为 null"),
    )
    pending_reports = serializers.IntegerField(help_text=_("待审核的填报条数"))


class SummarySerializer(serializers.Serializer):
    year = serializers.IntegerField(help_text=_("统计的计划年度"))
    as_of = serializers.DateField(allow_null=True, help_text=_("进度计算日期；null 表示今天"))
    group_by = serializers.CharField(help_text=_("分组方式"))
    region = serializers.CharField(allow_null=True, help_text=_("统计范围的地区代码"))
    groups = SummaryGroupSerializer(many=True, help_text=_("各分组的统计"))

