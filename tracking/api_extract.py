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

from .extraction import MAX_CHARACTERS, TextRefused, check_text, extract
from .models import Category, Programme
from .reliability import JSONBodyParser
from .textfile import UnreadableFile, read_text_file


class ExtractInputSerializer(serializers.Serializer):
    text = serializers.CharField(
        required=False, trim_whitespace=False, max_length=MAX_CHARACTERS,
        help_text="报告全文（或以 multipart 上传 file）",
        error_messages={"max_length": _("文本过长（上限 {max_length} 字），请分部分提取")},
    )
    file = serializers.FileField(required=False, help_text="UTF-8 或 GB18030 编码的 .txt 文件")
    kind = serializers.ChoiceField(choices=Programme.Kind.choices, default=Programme.Kind.ANNUAL_REPORT)

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


class FigureSerializer(serializers.Serializer):
    value = serializers.DecimalField(max_digits=30, decimal_places=4, coerce_to_string=False)
    unit = serializers.CharField()
    qualifier = serializers.ChoiceField(choices=["exact", "at_least", "more_than", "about"])
    measure = serializers.ChoiceField(choices=["count", "amount", "percentage", "milestone"])
    written = serializers.CharField(help_text="原文中的数字和单位")
    start = serializers.IntegerField(help_text="written 在全文中的起始位置（字符）")
    end = serializers.IntegerField()
    quote = serializers.CharField(help_text="说明所计何物的最短原文片段")
    offset = serializers.IntegerField(help_text="quote 在全文中的起始位置（字符）")
    name = serializers.CharField(allow_blank=True, help_text="指标名称的初步猜测")
    selected = serializers.BooleanField(help_text="默认是否选中；图片说明、重复、版面错乱处默认不选")
    flags = serializers.ListField(child=serializers.CharField())
    item = serializers.IntegerField(help_text="所属事项在 items 中的下标")


class ItemSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    title = serializers.CharField(allow_blank=True)
    text = serializers.CharField(allow_blank=True)
    start = serializers.IntegerField()
    end = serializers.IntegerField()
    category = serializers.ChoiceField(choices=Category.choices)
    milestone = serializers.BooleanField(help_text="计划中只承诺做某事、没有数字的事项")


class FlagSerializer(serializers.Serializer):
    kind = serializers.CharField()
    message = serializers.CharField()
    start = serializers.IntegerField()
    end = serializers.IntegerField()
    detail = serializers.ListField(child=serializers.DictField())


class ProposalSerializer(serializers.Serializer):
    kind = serializers.CharField()
    title = serializers.CharField(allow_blank=True)
    items = ItemSerializer(many=True)
    figures = FigureSerializer(many=True)
    flags = FlagSerializer(many=True)


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
