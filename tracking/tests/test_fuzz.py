"""The API fuzzed against its own OpenAPI schema, in process, with every check schemathesis has.

Schemathesis generates requests for every operation in /api/v1/schema/ —
valid ones and ones that break the schema — and each goes out twice, with a
Tongzhou reporter's token and with a Nantong reviewer's. No answer may be a
server error, every answer must match what the schema promises (status code,
content type, body, headers), invalid requests must be refused
(negative_data_rejection), valid ones accepted (positive_data_acceptance),
and no answer or log line may carry a password or another user's token.

A valid request may still be refused because of the data it names (a region
code or target id that does not exist or is not the user's, wrong
credentials, a file that is not what it claims, an If-Match that is not the
current version). The schema documents those refusals (tracking/api/schema.py:
x-data-refusals on the 400, If-Match's 412); configure_checks() tells
positive_data_acceptance that they are proper answers for those operations
only, and refused_only_by_data() that a 400 must name only the fields listed.

FUZZ_EXAMPLES sets how many random cases Hypothesis tries per operation (and
sequences in the stateful test), a few by default so the suite stays fast;
they are the same on every run unless FUZZ_RANDOM=1. FUZZ_COVERAGE=1 adds
schemathesis' coverage phase: for every parameter and field, its boundary
values, missing and wrong-typed values, unsupported methods and content
types — hundreds of requests per operation. FUZZ_MIN_CASES makes the last
test fail if fewer cases were sent. The README gives the full run's command;
.ci/run runs it after the suites.
"""

import datetime
import json
import os
import sys
from collections import Counter

import hypothesis
import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from rest_framework.authtoken.models import Token
from schemathesis.config import OperationConfig, OperationsConfig

from tracking.models import ProgressReport, Target

from .conftest import make_target, report

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "5"))
FUZZ_COVERAGE = os.environ.get("FUZZ_COVERAGE") == "1"
FUZZ_STATEFUL_STEPS = int(os.environ.get("FUZZ_STATEFUL_STEPS", "10"))
# The full run's floor (.ci/run): fewer cases than this fails test_enough_cases_were_sent.
FUZZ_MIN_CASES = int(os.environ.get("FUZZ_MIN_CASES", "0"))
PASSWORDS = ("pw-tongzhou_reporter", "pw-nantong_reviewer")  # conftest.make_user's
sent = Counter()


def served_schema_document():
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))


def load_schema():
    """The document /api/v1/schema/ serves, built and rendered as that view does.

    Built at collection, before any database is open, so not fetched over
    HTTP; test_the_fuzzed_schema_is_the_served_one checks that the two agree.
    """
    document = served_schema_document()
    loaded = schemathesis.openapi.from_dict(document)
    loaded.app = get_wsgi_application()
    loaded.config.phases.coverage.enabled = FUZZ_COVERAGE
    refusals = data_refusals(document)
    configure_checks(loaded, document, refusals)
    return loaded, refusals


def data_refusals(document):
    """operationId → the fields whose well-formed values the data may refuse, as the schema's 400s list them."""
    return {
        operation["operationId"]: operation["responses"]["400"]["x-data-refusals"]
        for operations in document["paths"].values()
        for operation in operations.values()
        if "x-data-refusals" in operation.get("responses", {}).get("400", {})
    }


def refused_only_by_data(ctx, response, case):
    """A schema-valid request answered 400 must be one the schema says the data can refuse.

    The schema lists, per operation, the fields whose well-formed values the
    data decides (an unknown region code or target id, wrong credentials, a
    file that is not what it claims: `x-data-refusals` on the 400, from
    tracking/api/schema.py). positive_data_acceptance is told that 400 is a
    proper answer for those operations (configure_checks()); this check keeps
    that from excusing any other 400: every field the answer names must be on
    the operation's list. Likewise a 412 must answer an If-Match.
    """
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    if response.status_code == 412:
        # A stale version is a proper refusal only of a request that named one.
        assert any(name.lower() == "if-match" for name in case.headers or {}), f"{case.operation.label}: 412 without If-Match"
    if response.status_code != 400:
        return
    refusals = DATA_REFUSALS.get(case.operation.definition.raw.get("operationId"))
    if refusals is None:
        return  # positive_data_acceptance itself reports this 400
    body = response.json()
    # Field → messages ({"region": […]}), or the import's result with its per-row "errors".
    named = {field for field, value in body.items() if isinstance(value, list) and value}
    unexpected = named - set(refusals)
    assert named and not unexpected, (
        f"{case.operation.label}: a schema-valid request refused for {sorted(unexpected or body)}, "
        f"which the schema does not say the data decides: {body}"
    )


def configure_checks(loaded, document, refusals):
    """positive_data_acceptance's proper refusals per operation, beside its defaults, from what the schema documents.

    400 where the schema lists fields the data decides (refused_only_by_data
    checks the answer names only those); 412 where the operation takes an
    If-Match header, whose ETag only the data makes current.
    """
    defaults = loaded.config.checks.positive_data_acceptance.expected_statuses
    configs = []
    for operations in document["paths"].values():
        for operation in operations.values():
            extra = ["400"] if operation["operationId"] in refusals else []
            if any(parameter["in"] == "header" and parameter["name"] == "If-Match" for parameter in operation.get("parameters", [])):
                extra.append("412")
            if extra:
                configs.append(OperationConfig.from_dict({
                    "include-operation-id": operation["operationId"],
                    "checks": {"positive_data_acceptance": {"expected-statuses": [*defaults, *extra]}},
                }))
    loaded.config.operations = OperationsConfig(operations=configs)


schema, DATA_REFUSALS = load_schema()


def print_the_count():
    sys.__stdout__.write(
        f"\nfuzz: {sent['cases']} cases ({sent['stateful cases']} of them in sequences), {sent['requests']} requests, "
        f"{sent['server errors']} server errors ({FUZZ_EXAMPLES} random examples per operation, "
        f"coverage phase {'on' if FUZZ_COVERAGE else 'off'}, {FUZZ_STATEFUL_STEPS} steps per sequence)\n"
    )


@pytest.fixture
def in_test_transaction():
    """Keep the test's connection across in-process requests, as Django's test client does.

    The WSGI handler's request signals close a connection that is not in
    autocommit mode, which the test's transaction never is (on SQLite the
    in-memory database survives; on PostgreSQL the next query fails).
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(request, in_test_transaction, songqingliang, jingkou_target, tongzhou_reporter, nantong_reviewer):
    """A world with something behind every operation: reports in each state, in two districts."""
    if not sent:
        # At the very end of the run: schemathesis' items skip module fixtures' teardown.
        request.config.add_cleanup(print_the_count)
    june = datetime.date(2024, 6, 1)
    for n, state in enumerate(ProgressReport.Status.values):
        report(songqingliang, june + datetime.timedelta(days=n), 100 + n, status=state)
    report(jingkou_target, june, 50, status=ProgressReport.Status.SUBMITTED)
    make_target(songqingliang.programme, number=1, code="1.1", name="百场宣讲", target_value="100", unit="场",
                aggregation=Target.Aggregation.LATEST)
    return {user.username: Token.objects.create(user=user).key for user in (tongzhou_reporter, nantong_reviewer)}


@schema.parametrize()
@hypothesis.settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
    # The same cases on every run, so that a failure in CI reproduces locally;
    # FUZZ_RANDOM=1 explores new ones.
    derandomize=os.environ.get("FUZZ_RANDOM") != "1",
    database=None,
)
def test_api_conforms_to_its_schema(case, tokens, caplog):
    sent["cases"] += 1
    for token in tokens.values():
        # Throttle counters would turn a long run into 429s that prove nothing.
        cache.clear()
        headers = {"Authorization": f"Token {token}"}
        response = case.call(headers=headers)
        sent["requests"] += 1
        sent["server errors"] += response.status_code >= 500
        case.validate_response(
            response, headers=headers, additional_checks=[refused_only_by_data],
        )
        others = [other for other in tokens.values() if other != token]
        # As bytes: the bulletin answers a .docx, which is no text.
        assert not [secret for secret in (*PASSWORDS, *others) if secret.encode() in response.content]
    assert not [secret for secret in (*PASSWORDS, *tokens.values()) if secret in caplog.text]


def test_the_fuzzed_schema_is_the_served_one(api, tongzhou_reporter):
    response = api(tongzhou_reporter).get("/api/v1/schema/?format=json")

    assert response.status_code == 200
    assert json.loads(response.content) == served_schema_document()


# --- What the fuzzing found, kept as plain regression tests -------------------------


def test_a_programme_detail_is_not_a_server_error(api, tongzhou_reporter, songqingliang):
    # Its ETag aggregate once named a count "items" and then read items__updated_at: a FieldError.
    response = api(tongzhou_reporter).get(f"/api/v1/programmes/{songqingliang.programme_id}/")

    assert response.status_code == 200


def test_every_operation_documents_the_errors_it_can_answer():
    document = served_schema_document()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert {"401", "403", "404", "429", "503"} <= codes, (method, path)
            if operation.get("parameters") or "requestBody" in operation:
                assert "400" in codes, (method, path)
            if method in ("put", "patch", "delete") or path.endswith(("/approve/", "/return/", "/submit/")):
                assert {"409", "412"} <= codes, (method, path)


def test_the_imports_refusal_of_a_whole_file_matches_its_documented_400(api, tongzhou_reporter, songqingliang):
    import jsonschema

    document = served_schema_document()
    documented = document["paths"]["/api/v1/progress-reports/import/"]["post"]["responses"]["400"]
    schema = {**documented["content"]["application/json"]["schema"], "components": document["components"]}

    response = api(tongzhou_reporter).post("/api/v1/progress-reports/import/", {"rows": []}, format="json")

    assert response.status_code == 400
    jsonschema.validate(response.json(), schema)


def test_an_undeclared_method_is_405_whatever_the_format(api, tongzhou_reporter):
    response = api(tongzhou_reporter).generic("TRACE", "/api/v1/targets/?format=csv")

    assert response.status_code == 405


def test_a_write_to_an_unknown_api_path_is_a_json_404_even_with_csrf_checks(tongzhou_reporter):
    # Token clients send no CSRF token; the catch-all 404 view once answered Django's HTML CSRF page.
    from django.test import Client

    token = Token.objects.create(user=tongzhou_reporter).key
    client = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Token {token}")

    response = client.post("/api/v1/progress-reports/0.5/approve/", {}, content_type="application/json")

    assert response.status_code == 404
    assert response.json() == {"detail": "未找到。"}


@pytest.mark.parametrize("query", ["targets/?programme=", "targets/?item=", "progress-reports/?target=", "targets/?year="])
def test_an_id_filter_beyond_64_bits_is_a_400_not_a_500(query, api, tongzhou_reporter):
    # SQLite cannot bind such a number at all (OverflowError).
    big = "54987181781736727079156773969461248"
    client = api(tongzhou_reporter)

    for value in (big, "-" + big):
        response = client.get(f"/api/v1/{query}{value}")
        assert response.status_code == 400, response.content


# --- Stateful: sequences that follow the schema's links (issue 14) ----------------------


def test_linked_operations_in_sequence_conform_to_the_schema(tokens, caplog):
    """A created report's id feeds its detail, edit, submit, approve, return and delete (the links of
    api/schema.py), so generated sequences reach the write paths with real ids, as a Tongzhou reporter."""
    token = tokens["tongzhou_reporter"]

    class Workflow(schema.as_state_machine()):
        # Each sequence starts from the same world: Hypothesis replays a sequence's prefix and
        # calls it flaky if the answers differ (a report created by an earlier sequence makes
        # the same create a 400, one report a day).
        def setup(self):
            self.savepoint = transaction.savepoint()

        def teardown(self):
            transaction.savepoint_rollback(self.savepoint)

        def get_call_kwargs(self, case):
            cache.clear()
            return {"headers": {"Authorization": f"Token {token}"}}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            sent["cases"] += 1
            sent["stateful cases"] += 1
            sent["requests"] += 1
            sent["server errors"] += response.status_code >= 500
            case.validate_response(
                response, headers=kwargs.get("headers"), additional_checks=[refused_only_by_data],
            )

    Workflow.run(settings=hypothesis.settings(
        max_examples=FUZZ_EXAMPLES, stateful_step_count=FUZZ_STATEFUL_STEPS, deadline=None,
        suppress_health_check=list(hypothesis.HealthCheck),
        derandomize=os.environ.get("FUZZ_RANDOM") != "1", database=None,
    ))
    assert not [secret for secret in (*PASSWORDS, *tokens.values()) if secret in caplog.text]


def test_enough_cases_were_sent():
    """Last in the file, so after every fuzz test above: a full run that sent too few cases proves too little."""
    assert sent["server errors"] == 0
    assert sent["cases"] >= FUZZ_MIN_CASES, f"only {sent['cases']} cases sent, fewer than FUZZ_MIN_CASES={FUZZ_MIN_CASES}"
