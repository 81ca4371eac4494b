"""Schema postprocessing: what the API refuses, said in the schema, and the links between operations.

drf-spectacular describes parameters by type only. The API refuses an empty
query parameter (?region=), a page or page_size below 1, and a return
without a review note; here the schema says so, so that a client (and the
schema fuzz test) can tell a well-formed request from one that is not.

The links tell a stateful client (schemathesis' stateful phase) that a
created report's id feeds its detail, edits, workflow steps and delete.
"""

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


def tighten_parameters(result, generator, request, public):
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") != "query":
                    continue
                schema = parameter.setdefault("schema", {})
                if schema.get("type") == "string" and "enum" not in schema:
                    schema.setdefault("minLength", 1)
                if parameter["name"] in POSITIVE and schema.get("type") == "integer":
                    schema["minimum"] = max(schema.get("minimum", 1), 1)
            if path.endswith("/progress-reports/") and method == "post":
                created = operation.get("responses", {}).get("201")
                if created is not None:
                    created["links"] = {
                        name: {"operationId": operation_id, "parameters": {"id": REPORT}}
                        for name, operation_id in REPORT_LINKS.items()
                    }
    return result
