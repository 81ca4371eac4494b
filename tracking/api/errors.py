"""Errors as JSON: Django's and the services' exceptions as DRF answers, and the error answers in the schema."""

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from ..workflow import WorkflowConflict


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = _("该填报在您读取之后已被修改，请重新读取后再操作")
    default_code = "precondition_failed"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("该填报当前的状态不允许此操作")
    default_code = "conflict"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"

    def __init__(self):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / (1024 * 1024)
        super().__init__(
            _("请求体过大：JSON 或表单不能超过 %(mb)s MB；大批量填报请以文件（multipart）上传") % {"mb": f"{limit:g}"}
        )


def exception_handler(exc, context):
    """Django's and the services' exceptions as DRF responses, so domain code never imports DRF."""
    if isinstance(exc, RequestDataTooBig):
        # Django's own answer is its HTML 400 page; API clients get JSON like every other error.
        exc = PayloadTooLarge()
    elif isinstance(exc, (TooManyFieldsSent, TooManyFilesSent)):
        exc = exceptions.ParseError(_("表单字段过多"))
    elif isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            key = api_settings.NON_FIELD_ERRORS_KEY
            detail = {(key if name == NON_FIELD_ERRORS else name): messages for name, messages in exc.message_dict.items()}
        else:
            detail = {api_settings.NON_FIELD_ERRORS_KEY: exc.messages}
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, WorkflowConflict):
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
    429 and a database outage 503 (tracking.middleware); without them in the
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
                "413": _error("请求体过大") if "requestBody" in operation else None,
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


@csrf_exempt  # it changes nothing, and token clients send no CSRF token: a POST must get the 404 too
def not_found(request, *args, **kwargs):
    """Any other URL under /api/v1/ (/targets/0.5/, a typo): a JSON 404 like the API's own, not Django's HTML page.

    A plain view, so it stays out of the schema.
    """
    return JsonResponse({"detail": str(exceptions.NotFound.default_detail)}, status=404, json_dumps_params={"ensure_ascii": False})
