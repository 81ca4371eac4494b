"""Codes in natural order everywhere: 1.1, 1.2, 1.10, 2.1, 10.1 (tracking.models.targets.code_key)."""

import csv
import datetime
import io
import json

import pytest
from django.core.management import call_command
from django.urls import reverse

from tracking.api.pagination import IdsFirstPaginator
from tracking.models import Item, Target
from tracking.models.targets import code_key

from .conftest import make_target, report

NATURAL = ["1.1", "1.2", "1.10", "2.1", "10.1"]


@pytest.mark.parametrize(
    ("codes", "ordered"),
    [
        (["10.1", "1.10", "2.1", "1.2", "1.1"], NATURAL),
        (["1.1.1", "1.1", "1", "1.2"], ["1", "1.1", "1.1.1", "1.2"]),
        (["A2", "a10", "A1"], ["A1", "A2", "a10"]),
        (["０１.３", "1.2"], ["1.2", "０１.３"]),  # full-width digits and leading zeros read as numbers
    ],
)
def test_code_keys_sort_codes_naturally(codes, ordered):
    assert sorted(codes, key=code_key) == ordered


def test_keys_hold_only_digits_and_letters_which_every_collation_compares_alike():
    assert code_key("1.10") == "0110210"
    assert code_key("附件 3-2") == "附件013012"


@pytest.fixture
def scrambled(tongzhou_plan):
    """Tongzhou targets created in scrambled order, each with an approved report."""
    targets = {}
    for code in ["10.1", "1.10", "2.1", "1.2", "1.1"]:
        targets[code] = make_target(tongzhou_plan, number=int(code.split(".")[0]), code=code, name=f"指标{code}")
        report(targets[code], datetime.date(2024, 6, 30), 10)
    return targets


def test_save_and_bulk_create_keep_the_key(tongzhou_plan, scrambled):
    assert Target.objects.get(code="1.10").code_key == code_key("1.10")
    item = Item.objects.get(programme=tongzhou_plan, number=1)
    [made] = Target.objects.bulk_create([Target(
        programme=tongzhou_plan, year=2024, period_start=tongzhou_plan.period_start, item=item, code="1.11",
        name="批量", unit="个", due_date=tongzhou_plan.period_end,
    )])
    assert Target.objects.get(code="1.11").code_key == code_key("1.11")
    assert made.code_key == code_key("1.11")

    renamed = Target.objects.get(code="1.10")
    renamed.code = "1.9"
    renamed.save(update_fields=["code"])
    assert Target.objects.get(pk=renamed.pk).code_key == code_key("1.9")


def test_a_loaded_target_without_a_key_gets_one(regions, tmp_path, settings):
    """A dump made before there was a key loads into the right order all the same."""
    dump = json.loads((settings.FIXTURE_DIRS[0] / "tongzhou_2024.json").read_text(encoding="utf-8"))
    for entry in dump:
        entry["fields"].pop("code_key", None)
    path = tmp_path / "old_dump.json"
    path.write_text(json.dumps(dump, ensure_ascii=False), encoding="utf-8")

    call_command("loaddata", str(path), verbosity=0)

    assert all(t.code_key == code_key(t.code) for t in Target.objects.all())
    assert list(Target.objects.filter(item__number=10).values_list("code_key", flat=True)) == ["0210011"]


@pytest.mark.parametrize("params", [{}, {"year": 2024}, {"region": "320612", "year": 2024}])
def test_the_api_lists_targets_in_natural_order(api, scrambled, tongzhou_reporter, params):
    body = api(tongzhou_reporter).get("/api/v1/targets/", params).json()

    assert [t["code"] for t in body["results"]] == NATURAL


@pytest.mark.parametrize("deep", [0, 1000])
def test_pages_keep_the_natural_order(api, scrambled, tongzhou_reporter, monkeypatch, deep):
    """Pages past IdsFirstPaginator.deep find their ids first, on the index: both ways agree."""
    monkeypatch.setattr(IdsFirstPaginator, "deep", deep)

    codes = []
    for page in (1, 2, 3):
        body = api(tongzhou_reporter).get("/api/v1/targets/", {"year": 2024, "page_size": 2, "page": page}).json()
        codes += [t["code"] for t in body["results"]]

    assert codes == NATURAL


def test_the_programme_detail_nests_targets_in_natural_order(api, scrambled, tongzhou_plan, tongzhou_reporter):
    body = api(tongzhou_reporter).get(f"/api/v1/programmes/{tongzhou_plan.pk}/").json()

    assert [t["code"] for item in body["items"] for t in item["targets"]] == NATURAL


def test_the_admin_lists_targets_and_reports_in_natural_order(scrambled, tongzhou_reporter, logged_in):
    client = logged_in(tongzhou_reporter)

    targets = client.get(reverse("admin:tracking_target_changelist")).context["cl"].result_list
    reports = client.get(reverse("admin:tracking_progressreport_changelist")).context["cl"].result_list

    assert [t.code for t in targets] == NATURAL
    assert [r.target.code for r in reports] == NATURAL


def test_exports_and_templates_list_codes_in_natural_order(scrambled, tongzhou_plan, tongzhou_reporter, logged_in):
    client = logged_in(tongzhou_reporter)

    export = client.get(reverse("admin:tracking_progressreport_export") + "?format=csv")
    template = client.get(reverse("admin:tracking_programme_template", args=[tongzhou_plan.pk]) + "?format=csv")

    for response in (export, template):
        rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert [row["指标编号"] for row in rows] == NATURAL
