"""GET /api/v1/bulletin/?region=&as_of=: the 进展情况通报 of a region as a Word document (.docx).

For a region the user may see (the scoping rule), on a date (today by
default); its figures equal summary/'s for the same region and date. Never
public: a bulletin is sent by a union to its districts.
"""

from django.http import HttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer

from ..bulletin import document
from ..bulletin.document import DOCX
from ..bulletin.figures import bulletin_figures
from ..models import Region
from .base import NamedFormatOnly


class DocxRenderer(BaseRenderer):
    """Lets a client ask for the .docx by Accept; errors still go out as JSON."""

    media_type = DOCX
    format = "docx"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes):
            return data
        response = renderer_context["response"] if renderer_context else None
        if response is not None:
            response["Content-Type"] = "application/json"
        return JSONRenderer().render(data)


class BulletinQuerySerializer(serializers.Serializer):
    region = serializers.CharField(
        required=False, help_text=_("地区代码；默认为您所在的地区。只能是您权限范围内的地区")
    )
    as_of = serializers.DateField(required=False, help_text=_("按此日期计算进度（YYYY-MM-DD）；默认今天"))

    def validate_region(self, code):
        user = self.context["request"].user
        region = Region.objects.visible_to(user).filter(code=code).first()
        if region is None:
            raise exceptions.NotFound(_("地区“%(code)s”不存在或不在您的权限范围内") % {"code": code})
        return region

    def validate(self, data):
        if "region" not in data:
            membership = getattr(self.context["request"].user, "membership", None)
            if membership is None:
                raise serializers.ValidationError({"region": [_("请指定地区代码（region）")]})
            data["region"] = membership.region
        return data

    def to_internal_value(self, data):
        empty = {name: [_("参数不能为空；不需要时请省略")] for name in self.fields if data.get(name) == ""}
        if empty:
            raise serializers.ValidationError(empty)
        return super().to_internal_value(data)


class BulletinView(NamedFormatOnly, generics.GenericAPIView):
    """A region's 进展情况通报 (GB/T 9704 layout) as .docx: summary, ranking by mean completion, lagging targets."""

    permission_classes = [IsAuthenticated]
    renderer_classes = [JSONRenderer, DocxRenderer]
    serializer_class = BulletinQuerySerializer
    pagination_class = None
    filter_backends = []

    @extend_schema(
        summary="进展情况通报（.docx）",
        parameters=[
            BulletinQuerySerializer,
            OpenApiParameter("format", str, enum=["json", "docx"], description=_("省略即可；答复总是 Word 文档，出错时为 JSON")),
        ],
        responses={(200, DOCX): OpenApiResponse(OpenApiTypes.BINARY, description=_("Word 文档"))},
    )
    def get(self, request, *args, **kwargs):
        params = BulletinQuerySerializer(data=request.query_params, context={"request": request})
        params.is_valid(raise_exception=True)
        bulletin = bulletin_figures(region=params.validated_data["region"], as_of=params.validated_data.get("as_of"))
        response = HttpResponse(document.build(bulletin), content_type=DOCX)
        response["Content-Disposition"] = content_disposition_header(True, document.filename(bulletin))
        response["Cache-Control"] = "private, no-store"
        return response
