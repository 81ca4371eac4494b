"""Issue 14: odd input answered with a clear 4xx in Chinese, nothing written, never a 500.

Lone surrogates in JSON (defect 5), malformed pagination cursors (defect 6)
and bodies over Django's size limit (defect 14).
"""

import base64
import json

import pytest

from tracking.models import ProgressReport

from .test_bad_input import CHINESE, fingerprint, import_row

S = ProgressReport.Status
URL = "/api/v1/progress-reports/"
LONE = "1\ud800"


def refused_in_chinese(response, status=400):
    assert response.status_code == status, response.content[:300]
    text = response.content.decode("utf-8")  # strict: the answer is encodable
    assert CHINESE.search(text), text[:300]
    assert response["Content-Type"].startswith("application/json")
    return json.loads(text)


def as_json(body):
    # json.dumps writes a lone surrogate as the escape \ud800, as a hostile client would send it.
    return {"data": json.dumps(body), "content_type": "application/json"}


# --- Defect 5: lone surrogates ---------------------------------------------------------


def test_a_lone_surrogate_in_a_new_reports_value_is_a_400(api, reports_in_every_state, tongzhou_reporter):
    before = fingerprint()
    body = {"target": reports_in_every_state["target"].pk, "period_end": "2024-02-11", "value": LONE}

    refused_in_chinese(api(tongzhou_reporter).post(URL, **as_json(body)))

    assert fingerprint() == before


def test_a_lone_surrogate_in_an_edit_is_a_400(api, reports_in_every_state, tongzhou_reporter):
    draft = reports_in_every_state["reports"][S.DRAFT]
    before = fingerprint()

    refused_in_chinese(api(tongzhou_reporter).patch(f"{URL}{draft.pk}/", **as_json({"note": "a\udfff"})))

    assert fingerprint() == before


@pytest.mark.parametrize("field", ["kind", "qualifier", "period_end", "value", "target", "note"])
def test_a_lone_surrogate_in_any_imported_cell_is_a_400(api, reports_in_every_state, tongzhou_reporter, field):
    before = fingerprint()

    response = api(tongzhou_reporter).post(f"{URL}import/", **as_json([import_row(**{field: LONE})]))

    refused_in_chinese(response)
    assert fingerprint() == before


def test_a_lone_surrogate_in_a_key_is_a_400(api, reports_in_every_state, tongzhou_reporter):
    refused_in_chinese(api(tongzhou_reporter).post(f"{URL}import/", **as_json([{LONE: "x", **import_row()}])))
    assert not ProgressReport.objects.filter(period_end="2024-07-31").exists()


def test_a_surrogate_pair_is_a_character_and_is_kept(api, reports_in_every_state, tongzhou_reporter):
    draft = reports_in_every_state["reports"][S.DRAFT]

    response = api(tongzhou_reporter).patch(f"{URL}{draft.pk}/", **as_json({"note": "送清凉😀"}))

    assert response.status_code == 200, response.content
    draft.refresh_from_db()
    assert draft.note == "送清凉😀"


# --- Defect 6: malformed cursors --------------------------------------------------------


def cursor(text):
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize("position", ["p=abc", "p=1.5", "p=\x00", "p=-1", "p=" + "9" * 40, "o=x", "r=x"])
def test_a_malformed_cursor_is_a_404_that_says_so(api, reports_in_every_state, tongzhou_reporter, position):
    response = api(tongzhou_reporter).get(URL, {"cursor": cursor(position)})

    assert "游标无效" in refused_in_chinese(response, 404)["detail"]


def test_a_cursor_that_is_not_base64_is_a_404(api, reports_in_every_state, tongzhou_reporter):
    refused_in_chinese(api(tongzhou_reporter).get(URL, {"cursor": "a"}), 404)


def test_the_next_links_cursor_still_pages(api, reports_in_every_state, tongzhou_reporter):
    client = api(tongzhou_reporter)
    first = client.get(URL, {"page_size": 2}).json()

    following = client.get(first["next"])

    assert following.status_code == 200
    ids = [r["id"] for r in first["results"] + following.json()["results"]]
    expected = list(ProgressReport.objects.visible_to(tongzhou_reporter).order_by("-id").values_list("pk", flat=True)[:4])
    assert ids == expected


# --- Defect 14: bodies over Django's size limit -----------------------------------------

TEN_MB = 10 * 1024 * 1024


@pytest.mark.parametrize("path", [URL, f"{URL}import/", "/api/v1/token/"])
@pytest.mark.parametrize("kind", ["json", "form"])
def test_a_ten_megabyte_body_is_a_json_413(api, reports_in_every_state, tongzhou_reporter, path, kind):
    before = fingerprint()
    if kind == "json":
        body = {"data": json.dumps({"note": "x" * TEN_MB}), "content_type": "application/json"}
    else:
        body = {"data": "note=" + "x" * TEN_MB, "content_type": "application/x-www-form-urlencoded"}

    response = api(tongzhou_reporter).post(path, **body)

    # The import takes no form: 415 says so before the body is read.
    expected = 415 if (kind, path) == ("form", f"{URL}import/") else 413
    assert "MB" in refused_in_chinese(response, expected)["detail"] or expected == 415
    assert fingerprint() == before


def test_too_many_form_fields_is_a_json_400(api, reports_in_every_state, tongzhou_reporter):
    body = "&".join(f"f{n}=1" for n in range(2000))

    response = api(tongzhou_reporter).post(URL, data=body, content_type="application/x-www-form-urlencoded")

    refused_in_chinese(response, 400)
