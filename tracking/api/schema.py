"""Schema postprocessing: what the API refuses, said in the schema, and the links between operations.

drf-spectacular describes parameters by type only. The API refuses an empty
query parameter (?region=), a page or page_size below 1, a region code that
is not six digits, and a return without a review note; here the schema says
so, so that a client (and the schema fuzz test) can tell a well-formed request
from one that is not.

Some well-formed requests cannot succeed because of the data they name: a
region code or target id that does not exist or that the user may not see,
wrong credentials, a file whose content is not what it claims. No schema can
say which ids exist, so these refusals are documented instead: each such
operation's 400 names, in its description and in `x-data-refusals`, the
fields whose value the data decides, with why. The schema fuzz test reads
that list: a schema-valid request answered 400 passes only if every field
the answer names is one of them (tracking/tests/test_fuzz.py).

The links tell a stateful client (schemathesis' stateful phase) that a
created report's id feeds its detail, edits, workflow steps and delete.
"""

from django.core.validators import RegexValidator

REPORT = "$response.body#/id"
REPORT_LINKS = {
    "GetReport": "progress_reports_retrieve",
    "UpdateReport": "progress_reports_partial_update",
    "SubmitReport": "progress_reports_submit_create",
    "ApproveReport": "progress_reports_approve_create",
    "ReturnReport": "progress_reports_return_create",
    "DeleteReport": "progress_reports_destroy",
}
POSITIVE = {"page", "page_size"}
REGION_CODE_PARAMETERS = {("query", "region"), ("path", "code")}
# Django's and DRF's text fields refuse a NUL character (PostgreSQL cannot store one): said of every
# free text the API reads, in a query string or a body.
NO_NUL = "^[^\\u0000]*$"

UNKNOWN_REGION = "地区代码不存在"
PERIOD = "日期须在该指标所属计划的期间内，且不晚于今天"
ONE_A_DAY = "该指标在该日期已有填报（每个指标每天一条）"
# operationId → {field: why a well-formed value can still be refused (400)}. A field named here is
# one the answer's error body names ({"region": […]}, or the import's per-row "errors").
DATA_REFUSALS = {
    # A region filter is a 400 for an unknown code rather than an empty list (api/filters.py).
    **{
        operation: {"region": UNKNOWN_REGION}
        for operation in ("programmes_list", "targets_list", "progress_reports_list", "summary_retrieve")
    },
    # (An unknown region is a 404 here.) Two parameters that exclude each other, which
    # OpenAPI 3.0 cannot say of query parameters.
    "completeness_retrieve": {"non_field_errors": "programme 与 region、year 只能二选一"},
    # DRF's answer for an unknown related id in a body; another district's target is refused
    # as if it did not exist (README: "refused as an unknown id (400)"). The date is judged
    # against the target's programme, and a target has one report a day.
    "progress_reports_create": {"target": "指标不存在或不在您可见的范围内", "period_end": PERIOD, "non_field_errors": ONE_A_DAY},
    # An edit cannot change the target; its date is judged as on create.
    "progress_reports_update": {"period_end": PERIOD, "non_field_errors": ONE_A_DAY},
    "progress_reports_partial_update": {"period_end": PERIOD, "non_field_errors": ONE_A_DAY},
    # A file's content is read, not its name; rows name regions, programmes and targets.
    "progress_reports_import_create": {
        "file": "文件内容不是 CSV 或 xlsx，或无法读取",
        "errors": "逐行错误：地区、计划、指标不存在或不可见，日期不在计划期间内等",
    },
    "extract_create": {"file": "文件内容不是文本", "text": "文本为空或不是文本（二进制）"},
    # DRF's obtain_auth_token answers wrong credentials with 400, not 401; clients written for
    # it read that, so it stays (the README promises 429 only for a lockout).
    "token_create": {"non_field_errors": "用户名或密码错误"},
}


def refuse_nul(schema):
    """A free text (no enum, no format) says it takes no NUL, beside any search pattern it has.

    An anchored pattern (a region code, an ordering) spells out every character it accepts already.
    """
    if schema.get("type") != "string" or "enum" in schema or "format" in schema:
        return
    if schema.get("pattern", "").startswith("^"):
        return
    if "pattern" not in schema:
        schema["pattern"] = NO_NUL
    elif schema["pattern"] != NO_NUL and {"pattern": NO_NUL} not in schema.get("allOf", []):
        schema.setdefault("allOf", []).append({"pattern": NO_NUL})


def request_bodies(result):
    """The component schemas that request bodies name."""
    components = result.get("components", {}).get("schemas", {})
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for media in operation.get("requestBody", {}).get("content", {}).values():
                reference = media.get("schema", {}).get("$ref", "")
                if reference.startswith("#/components/schemas/"):
                    yield components[reference.rsplit("/", 1)[1]]


def region_code_pattern():
    """Region.code's own validator: the API refuses any other region code (400 in a filter, 404 in a path)."""
    from ..models import Region

    return next(v.regex.pattern for v in Region._meta.get_field("code").validators if isinstance(v, RegexValidator))


def tighten_parameters(result, generator, request, public):
    region_code = region_code_pattern()
    for body in request_bodies(result):
        for field in body.get("properties", {}).values():
            refuse_nul(field)
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                schema = parameter.setdefault("schema", {})
                if (parameter.get("in"), parameter["name"]) in REGION_CODE_PARAMETERS and schema.get("type") == "string":
                    schema["pattern"] = region_code
                if parameter.get("in") != "query":
                    continue
                if schema.get("type") == "string" and "enum" not in schema:
                    schema.setdefault("minLength", 1)
                    refuse_nul(schema)
                if parameter["name"] in POSITIVE and schema.get("type") == "integer":
                    schema["minimum"] = max(schema.get("minimum", 1), 1)
            refusals = DATA_REFUSALS.get(operation.get("operationId"))
            refused = operation.get("responses", {}).get("400")
            if refusals and refused is not None:
                reasons = "；".join(f"{field}：{why}" for field, why in refusals.items())
                refused["description"] = f"{refused['description']}。格式正确、但与数据不符时也是 400（{reasons}）"
                refused["x-data-refusals"] = refusals
            if path.endswith("/progress-reports/") and method == "post":
                created = operation.get("responses", {}).get("201")
                if created is not None:
                    created["links"] = {
                        name: {"operationId": operation_id, "parameters": {"id": REPORT}}
                        for name, operation_id in REPORT_LINKS.items()
                    }
    return result
