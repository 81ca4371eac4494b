"""Who sees and changes what in the admin: every role in two districts against every admin URL.

Tongzhou (320612) is under Nantong, Jingkou (321102) under Zhenjiang. Each
district has a programme, an item, a target and a draft report; each test
checks the status code and, for writes, the database.
"""

import csv
import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tracking.models import Item, ProgressReport, Programme, Target


S = ProgressReport.Status
USERS = [
    "tongzhou_reporter", "tongzhou_manager", "nantong_reviewer",
    "jingkou_reporter", "jingkou_manager", "zhenjiang_reviewer", "superuser",
]
HOME = {
    "tongzhou_reporter": {"tongzhou"}, "tongzhou_manager": {"tongzhou"}, "nantong_reviewer": {"tongzhou"},
    "jingkou_reporter": {"jingkou"}, "jingkou_manager": {"jingkou"}, "zhenjiang_reviewer": {"jingkou"},
    "superuser": {"tongzhou", "jingkou"},
}
ROLE = {name: name.split("_")[-1] if name != "superuser" else "superuser" for name in USERS}
ROLE["nantong_reviewer"] = ROLE["zhenjiang_reviewer"] = "reviewer"
MODELS = ["programme", "item", "target", "progressreport"]
# Who may add and delete each model, inside their own region.
WRITERS = {
    "programme": {"manager", "superuser"},
    "item": {"manager", "superuser"},
    "target": {"manager", "superuser"},
    "progressreport": {"reporter", "manager", "superuser"},
}
DISTRICTS = ["tongzhou", "jingkou"]


@pytest.fixture
def as_user(a_draft_in_each_district, logged_in, request):
    def login(name):
        return logged_in(request.getfixturevalue(name))

    return login


def url(model, view, obj=None):
    args = [obj.pk] if obj is not None else []
    return reverse(f"admin:tracking_{model}_{view}", args=args)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("name", USERS)
def test_changelist_lists_only_the_users_regions(as_user, a_draft_in_each_district, name, model):
    response = as_user(name).get(url(model, "changelist"))

    assert response.status_code == 200
    listed = {obj.pk for obj in response.context["cl"].result_list}
    assert listed == {a_draft_in_each_district[district][model].pk for district in HOME[name]}


@pytest.mark.parametrize("district", DISTRICTS)
@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("name", USERS)
def test_change_page_opens_inside_the_region_and_is_404_outside(as_user, a_draft_in_each_district, name, model, district):
    response = as_user(name).get(url(model, "change", a_draft_in_each_district[district][model]))

    assert response.status_code == (200 if district in HOME[name] else 404)


@pytest.mark.parametrize("district", DISTRICTS)
@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("name", USERS)
def test_history_page_opens_inside_the_region_and_is_refused_outside(as_user, a_draft_in_each_district, name, model, district):
    response = as_user(name).get(url(model, "history", a_draft_in_each_district[district][model]))

    if district in HOME[name]:
        assert response.status_code == 200
    else:
        assert response.status_code in (403, 404)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("name", USERS)
def test_add_page_is_only_for_roles_that_write_the_model(as_user, name, model):
    response = as_user(name).get(url(model, "add"))

    assert response.status_code == (200 if ROLE[name] in WRITERS[model] else 403)


@pytest.mark.parametrize("district", DISTRICTS)
@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("name", USERS)
def test_delete_page_needs_the_region_and_a_writing_role(as_user, a_draft_in_each_district, name, model, district):
    response = as_user(name).get(url(model, "delete", a_draft_in_each_district[district][model]))

    if district not in HOME[name]:
        assert response.status_code == 404
    else:
        assert response.status_code == (200 if ROLE[name] in WRITERS[model] else 403)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("name", ["jingkou_reporter", "jingkou_manager", "zhenjiang_reviewer"])
def test_deleting_a_tongzhou_object_from_jingkou_deletes_nothing(as_user, a_draft_in_each_district, name, model):
    obj = a_draft_in_each_district["tongzhou"][model]

    response = as_user(name).post(url(model, "delete", obj), {"post": "yes"})

    assert response.status_code == 404
    assert type(obj).objects.filter(pk=obj.pk).exists()


EDITS = {
    "programme": ("title", "改掉的标题"),
    "item": ("title", "改掉的事项"),
    "target": ("name", "改掉的指标"),
    "progressreport": ("note", "改掉的备注"),
}


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("name", ["jingkou_reporter", "jingkou_manager", "zhenjiang_reviewer"])
def test_changing_a_tongzhou_object_from_jingkou_changes_nothing(as_user, a_draft_in_each_district, name, model):
    obj = a_draft_in_each_district["tongzhou"][model]
    field, value = EDITS[model]

    response = as_user(name).post(url(model, "change", obj), {field: value})

    assert response.status_code == 404
    obj.refresh_from_db()
    assert getattr(obj, field) != value


def test_tongzhou_manager_changes_a_tongzhou_target(as_user, a_draft_in_each_district):
    target = a_draft_in_each_district["tongzhou"]["target"]
    data = {
        "programme": target.programme_id, "item": target.item_id, "code": "4.1", "name": "送清凉（夏季）",
        "unit": "名", "target_value": "12000", "measure": "count", "aggregation": "sum", "due_date": "2024-12-31",
        **management_form(),
    }

    response = as_user("tongzhou_manager").post(url("target", "change", target), data)

    assert response.status_code == 302
    target.refresh_from_db()
    assert target.name == "送清凉（夏季）"


def test_tongzhou_manager_cannot_move_a_target_to_a_jingkou_programme(as_user, a_draft_in_each_district):
    target = a_draft_in_each_district["tongzhou"]["target"]
    jingkou = a_draft_in_each_district["jingkou"]
    data = {
        "programme": jingkou["programme"].pk, "item": jingkou["item"].pk, "code": "4.1", "name": "送清凉",
        "unit": "名", "target_value": "12000", "measure": "count", "aggregation": "sum", "due_date": "2024-12-31",
        **management_form(),
    }

    response = as_user("tongzhou_manager").post(url("target", "change", target), data)

    # Programme and item are read-only once a target exists: the posted ones are ignored.
    assert response.status_code == 302
    target.refresh_from_db()
    assert (target.programme, target.item) == (a_draft_in_each_district["tongzhou"]["programme"], a_draft_in_each_district["tongzhou"]["item"])


def test_reporter_posting_a_target_page_cannot_change_the_target(as_user, a_draft_in_each_district):
    target = a_draft_in_each_district["tongzhou"]["target"]

    response = as_user("tongzhou_reporter").post(
        url("target", "change", target), {"name": "改掉的指标", "target_value": "1", **management_form()}
    )

    assert response.status_code == 302
    target.refresh_from_db()
    assert (target.name, target.target_value) == ("送清凉", 12000)


def test_reviewer_cannot_change_a_report_value(as_user, a_draft_in_each_district):
    draft = a_draft_in_each_district["tongzhou"]["progressreport"]

    response = as_user("nantong_reviewer").post(
        url("progressreport", "change", draft),
        {"target": draft.target_id, "period_end": "2024-06-30", "value": "99999", "qualifier": "exact"},
    )

    assert response.status_code == 403
    draft.refresh_from_db()
    assert draft.value == 100


def test_reporter_can_only_pick_targets_of_their_own_district(as_user, a_draft_in_each_district):
    response = as_user("tongzhou_reporter").get(url("progressreport", "add"))

    choices = response.context["adminform"].form.fields["target"].queryset
    assert list(choices) == [a_draft_in_each_district["tongzhou"]["target"]]


def test_report_for_another_districts_target_is_refused(as_user, a_draft_in_each_district):
    jingkou = a_draft_in_each_district["jingkou"]["target"]

    response = as_user("tongzhou_reporter").post(
        url("progressreport", "add"),
        {"target": jingkou.pk, "period_end": "2024-07-31", "value": "5", "qualifier": "exact"},
    )

    assert response.status_code == 200
    assert "target" in response.context["adminform"].form.errors
    assert not ProgressReport.objects.filter(target=jingkou, period_end=datetime.date(2024, 7, 31)).exists()


def test_manager_can_only_pick_their_own_region_for_a_programme(as_user, a_draft_in_each_district):
    response = as_user("tongzhou_manager").get(url("programme", "add"))

    regions = response.context["adminform"].form.fields["region"].queryset
    assert [r.code for r in regions] == ["320612"]


@pytest.mark.parametrize("district", DISTRICTS)
@pytest.mark.parametrize("name", USERS)
def test_workflow_step_outside_the_region_is_404_and_changes_nothing(as_user, a_draft_in_each_district, name, district):
    draft = a_draft_in_each_district[district]["progressreport"]

    response = as_user(name).post(url("progressreport", "workflow", draft), {"step": "submit"})

    draft.refresh_from_db()
    if district not in HOME[name]:
        assert response.status_code == 404
        assert draft.status == S.DRAFT
    else:
        assert response.status_code == 302
        may_submit = ROLE[name] in WRITERS["progressreport"]
        assert draft.status == (S.SUBMITTED if may_submit else S.DRAFT)


@pytest.mark.parametrize("name", USERS)
def test_import_page_is_for_reporters_and_managers(as_user, name):
    response = as_user(name).get(reverse("admin:tracking_progressreport_import"))

    assert response.status_code == (403 if ROLE[name] == "reviewer" else 200)


@pytest.mark.parametrize("name", ["nantong_reviewer", "zhenjiang_reviewer"])
def test_reviewer_cannot_import_even_by_posting(as_user, a_draft_in_each_district, name):
    file = SimpleUploadedFile("r.csv", "地区代码,年度,计划类型,事项序号,指标编号,截至日期,数值\n".encode())

    response = as_user(name).post(reverse("admin:tracking_progressreport_import"), {"file": file})

    assert response.status_code == 403


@pytest.mark.parametrize("name", USERS)
def test_export_contains_only_the_users_regions(as_user, name):
    response = as_user(name).get(reverse("admin:tracking_progressreport_export") + "?format=csv")

    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    codes = {"tongzhou": "320612", "jingkou": "321102"}
    assert {row["地区代码"] for row in rows} == {codes[d] for d in HOME[name]}


@pytest.mark.parametrize("district", DISTRICTS)
@pytest.mark.parametrize("name", USERS)
def test_evidence_is_served_only_inside_the_region(as_user, a_draft_in_each_district, name, district):
    draft = a_draft_in_each_district[district]["progressreport"]

    response = as_user(name).get(url("progressreport", "evidence", draft))

    if district in HOME[name]:
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == b"\x89PNG tongzhou"
    else:
        assert response.status_code == 404


def test_evidence_is_not_served_to_anonymous_users(a_draft_in_each_district, client):
    response = client.get(url("progressreport", "evidence", a_draft_in_each_district["tongzhou"]["progressreport"]))

    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_evidence_link_on_the_report_page_goes_through_the_permission_check(as_user, a_draft_in_each_district):
    draft = a_draft_in_each_district["tongzhou"]["progressreport"]

    page = as_user("tongzhou_reporter").get(url("progressreport", "change", draft)).content.decode()

    assert url("progressreport", "evidence", draft) in page
    assert "/media/" not in page


@pytest.mark.parametrize("district", DISTRICTS)
@pytest.mark.parametrize("name", ["tongzhou_reporter", "jingkou_manager", "nantong_reviewer"])
def test_programme_template_is_404_outside_the_region(as_user, a_draft_in_each_district, name, district):
    response = as_user(name).get(url("programme", "template", a_draft_in_each_district[district]["programme"]) + "?format=csv")

    assert response.status_code == (200 if district in HOME[name] else 404)


@pytest.mark.parametrize("name", USERS)
def test_dashboard_shows_only_the_users_regions(as_user, a_draft_in_each_district, name):
    response = as_user(name).get(reverse("admin:tracking_dashboard"))

    assert response.status_code == 200
    shown = {p.pk for p in response.context["programmes"]}
    assert shown == {a_draft_in_each_district[d]["programme"].pk for d in HOME[name]}


def test_memberships_are_for_superusers_only(as_user):
    assert as_user("tongzhou_manager").get(reverse("admin:tracking_membership_changelist")).status_code == 403
    assert as_user("superuser").get(reverse("admin:tracking_membership_changelist")).status_code == 200


def test_history_of_a_report_can_be_read_but_not_reverted(as_user, a_draft_in_each_district):
    draft = a_draft_in_each_district["tongzhou"]["progressreport"]
    version = draft.history.earliest()
    client = as_user("tongzhou_reporter")
    history_url = reverse("admin:tracking_progressreport_simple_history", args=[draft.pk, version.history_id])

    assert client.get(history_url).status_code == 200
    response = client.post(history_url, {"target": draft.target_id, "period_end": "2024-06-30", "value": "1"})

    assert response.status_code == 403
    draft.refresh_from_db()
    assert draft.value == 100


def test_history_of_a_jingkou_report_version_is_refused_to_tongzhou(as_user, a_draft_in_each_district):
    draft = a_draft_in_each_district["jingkou"]["progressreport"]
    version = draft.history.earliest()

    response = as_user("tongzhou_reporter").get(
        reverse("admin:tracking_progressreport_simple_history", args=[draft.pk, version.history_id])
    )

    assert response.status_code in (403, 404)


def test_anonymous_users_see_no_admin_data(a_draft_in_each_district, client):
    for path in [url("target", "changelist"), reverse("admin:tracking_progressreport_export"),
                 reverse("admin:tracking_dashboard")]:
        response = client.get(path)
        assert response.status_code == 302 and "/login/" in response["Location"]


def management_form(prefix="reports"):
    """The empty new-report inline that the target page always posts."""
    return {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}


def test_the_matrix_world_has_one_of_each_per_district(a_draft_in_each_district):
    # The a_draft_in_each_district the matrix runs against: one of each per district, nothing else.
    assert Programme.objects.count() == Item.objects.count() == Target.objects.count() == 2


# --- Permissions in one query ------------------------------------------------------------


@pytest.mark.parametrize("who", ["tongzhou_reporter", "tongzhou_manager", "nantong_reviewer", "superuser", "own"])
def test_permissions_come_in_one_query_and_match_djangos_backend(db, request, who, django_assert_num_queries):
    from django.contrib.auth.backends import ModelBackend
    from django.contrib.auth.models import Permission, User

    from tracking.auth import AccountBackend

    if who == "own":
        user = request.getfixturevalue("tongzhou_reporter")
        user.user_permissions.add(Permission.objects.get(codename="view_region"))
    else:
        user = request.getfixturevalue(who)

    with django_assert_num_queries(1):
        ours = AccountBackend().get_all_permissions(user)
    assert ours == ModelBackend().get_all_permissions(User.objects.get(pk=user.pk))
    assert ours  # every role has some
