"""POST /api/v1/extract/: the extractor's proposal for a report's text, as JSON. Writes nothing.

The same proposal the admin's extraction page shows: items, figures with
their value, unit, qualifier, quote and offsets, and the flags a person must
check. Saving is the admin page's job (or a fixture, through extract_report).
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from ..extraction import MAX_CHARACTERS, TextRefused, check_text, extract
from ..extraction.textfile import UnreadableFile, read_text_file
from ..models import Category, Programme, ProgressReport, Target
from .parsers import JSONBodyParser
from .serializers import EmptyChoiceRefused


class ExtractInputSerializer(EmptyChoiceRefused, serializers.Serializer):
    # Blank is allowed here (with a file, the text is not read); check_text() refuses a blank text alone.
    text = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, max_length=MAX_CHARACTERS,
        help_text="报告全文（或以 multipart 上传 file）",
        error_messages={"max_length": _("文本过长（上限 {max_length} 字），请分部分提取")},
    )
    file = serializers.FileField(required=False, help_text="UTF-8 或 GB18030 编码的 .txt 文件")
    kind = serializers.ChoiceField(
        choices=Programme.Kind.choices, default=Programme.Kind.ANNUAL_REPORT,
        help_text="文件类型：年度计划的数字是目标值，年度报告和多年回顾的数字是完成数",
    )

    def validate(self, data):
        if "file" in data:
            try:
                data["text"] = read_text_file(data.pop("file"))
            except UnreadableFile as error:
                raise serializers.ValidationError({"file": [str(error)]}) from None
        try:
            data["text"] = check_text(data.get("text", ""))
        except TextRefused as refusal:
            raise serializers.ValidationError({"text": [str(refusal)]}) from None
        return data


class ProposedFigureSerializer(serializers.Serializer):
    value = serializers.DecimalField(max_digits=30, decimal_places=4, coerce_to_string=False,
                                     help_text="数值，已换算为基本单位（335万元 → 3350000）")
    unit = serializers.CharField(help_text="单位：元、人次、家、% …")
    qualifier = serializers.ChoiceField(choices=ProgressReport.Qualifier.choices,
                                        help_text="限定：精确、以上、超过（余/多/逾）、约（近/左右）")
    measure = serializers.ChoiceField(choices=Target.Measure.choices, help_text="计量方式")
    written = serializers.CharField(help_text="原文中的数字和单位")
    start = serializers.IntegerField(help_text="written 在全文中的起始位置（字符）")
    end = serializers.IntegerField(help_text="written 在全文中的结束位置（不含）")
    quote = serializers.CharField(help_text="说明所计何物的最短原文片段")
    offset = serializers.IntegerField(help_text="quote 在全文中的起始位置（字符）")
    name = serializers.CharField(allow_blank=True, help_text="指标名称的初步猜测")
    selected = serializers.BooleanField(help_text="默认是否选中；图片说明、重复、版面错乱处默认不选")
    flags = serializers.ListField(
        child=serializers.CharField(), help_text="需人工核对的原因：caption 图片说明、repeated 与前文重复、layout 表格错乱、split 被版面隔断"
    )
    item = serializers.IntegerField(help_text="所属事项在 items 中的下标")


class ProposedItemSerializer(serializers.Serializer):
    number = serializers.IntegerField(help_text="事项序号，从 1 起")
    title = serializers.CharField(allow_blank=True, help_text="取自原文的小标题")
    text = serializers.CharField(allow_blank=True, help_text="该节原文")
    start = serializers.IntegerField(help_text="该节在全文中的起始位置（字符）")
    end = serializers.IntegerField(help_text="该节在全文中的结束位置（不含）")
    category = serializers.ChoiceField(choices=Category.choices, help_text="按关键词初步判断的类别")
    milestone = serializers.BooleanField(help_text="计划中只承诺做某事、没有数字的事项")


class ProposalFlagSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="scrambled_table 表格被拆分打乱，split_figure 数字被版面隔断")
    message = serializers.CharField(help_text="给核对人的说明")
    start = serializers.IntegerField(help_text="涉及原文的起始位置（字符）")
    end = serializers.IntegerField(help_text="涉及原文的结束位置（不含）")
    detail = serializers.ListField(child=serializers.DictField(), help_text="表格按序号拼接后的各项：number、text、pieces")


class ProposalSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="所请求的文件类型")
    title = serializers.CharField(allow_blank=True, help_text="文件标题（第一个标题行）")
    items = ProposedItemSerializer(many=True, help_text="事项，按原文顺序")
    figures = ProposedFigureSerializer(many=True, help_text="数字，按原文顺序")
    flags = ProposalFlagSerializer(many=True, help_text="需人工核对之处")


class ExtractView(generics.GenericAPIView):
    """Read a report's text and propose its items and figures; nothing is saved."""

    permission_classes = [IsAuthenticated]
    parser_classes = [JSONBodyParser, MultiPartParser, FormParser]
    serializer_class = ExtractInputSerializer
    pagination_class = None
    filter_backends = []

    @extend_schema(
        summary="从报告文本提取事项和数字（不写入）",
        request={"application/json": ExtractInputSerializer, "multipart/form-data": ExtractInputSerializer},
        responses=ProposalSerializer,
    )
    def post(self, request, *args, **kwargs):
        data = self.get_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        proposal = extract(data.validated_data["text"], data.validated_data["kind"])
        return Response(ProposalSerializer(proposal).data)
