"""Query parameters read strictly, and the parameters the schema documents for several views."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions


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

DRY_RUN = OpenApiParameter("dry_run", OpenApiTypes.BOOL, description="为 true 时只校验、不写入")
