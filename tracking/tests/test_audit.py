"""The audit trail: 50 changes through the admin and the API, each one history entry with who, what and the values.

The script mixes every way a figure changes: entering, editing, submitting,
approving, returning and deleting reports through both the API and the admin
(forms, workflow buttons and list actions), and a manager editing a target and
a programme in the admin. After each step exactly one history entry must have
appeared, naming the right user and action, with the before and after values
of what changed.
"""

import datetime
import html.parser
from decimal import Decimal

import pytest
from django.urls import reverse

from tracking.models import Item, Programme, ProgressReport, Target


S = ProgressReport.Status
MODELS = (Programme, Item, Target, ProgressReport)
# Bookkeeping that changes with every save and says nothing about the figures.
UNTRACKED = {"updated_at", "reviewed_at", "created_at"}


class FormFields(html.parser.HTMLParser):
    """The values a browser would submit from the page's main form."""

    def __init__(self):
        super().__init__()
        self.data, self.select, self.textarea = {}, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "button", "file", "image"):
            if attrs.get("type") in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.data[name] = attrs.get("value", "on")
            else:
                self.data[name] = attrs.get("value", "")
        elif tag == "select" and name:
            self.select = name
            self.data.setdefault(name, "")
        elif tag == "option" and self.select and "selected" in attrs:
            self.data[self.select] = attrs.get("value", "")
        elif tag == "textarea" and name:
            self.textarea = name
            self.data[name] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None

    def handle_data(self, data):
        if self.textarea:
            self.data[self.textarea] += data.lstrip("\n") if not self.data[self.textarea] else data


def form_of(response):
    parser = FormFields()
    parser.feed(response.content.decode())
    return parser.data


def history_count():
    return sum(model.history.count() for model in MODELS)


def latest_entry():
    entries = [model.history.order_by("-history_id").first() for model in MODELS]
    return max((e for e in entries if e is not None), key=lambda e: (e.history_date, e.history_id))


def changes(entry):
    """{field: (before, after)} for what this entry changed, without the timestamps."""
    if entry.history_type != "~":
        return {}
    delta = entry.diff_against(entry.prev_record)
    return {c.field: (c.old, c.new) for c in delta.changes if c.field not in UNTRACKED}


class Audit:
    """Runs each step and checks the one history entry it must leave."""

    def __init__(self):
        self.steps = 0

    def step(self, action, *, user, model, kind, changed=None, values=None):
        before = history_count()
        result = action()
        assert history_count() == before + 1, f"step {self.steps + 1}: {history_count() - before} entries"
        entry = latest_entry()
        assert entry.instance_type is model
        assert (entry.history_type, entry.history_user) == (kind, user), f"step {self.steps + 1}"
        if changed is not None:
            assert changes(entry) == changed, f"step {self.steps + 1}"
        for name, value in (values or {}).items():
            assert getattr(entry, name) == value, f"step {self.steps + 1}: {name}"
        self.steps += 1
        return result


@pytest.fixture
def admin_as(client, logged_in):
    return logged_in


def test_fifty_admin_and_api_changes_leave_fifty_exact_history_entries(
    songqingliang, tongzhou_reporter, tongzhou_manager, nantong_reviewer, api, logged_in, django_user_model
):
    from django.test import Client

    reporter_api, reviewer_api = api(tongzhou_reporter), api(nantong_reviewer)
    reporter_admin, reviewer_admin, manager_admin = Client(), Client(), Client()
    for client, user in ((reporter_admin, tongzhou_reporter), (reviewer_admin, nantong_reviewer),
                         (manager_admin, tongzhou_manager)):
        user.is_staff = True
        user.save(update_fields=["is_staff"])
        client.force_login(user)
    audit = Audit()
    day = iter(datetime.date(2024, 1, 1) + datetime.timedelta(days=n) for n in range(300))
    target = songqingliang

    def api_create(value):
        response = reporter_api.post(
            "/api/v1/progress-reports/", {"target": target.pk, "period_end": next(day).isoformat(), "value": value},
            format="json",
        )
        assert response.status_code == 201, response.content
        return response.json()["id"]

    def api_call(client, method, path, body=None, expect=200):
        def run():
            response = getattr(client, method)(path, body or {}, format="json")
            assert response.status_code == expect, response.content
        return run

    def admin_workflow(client, report_id, step, note=""):
        def run():
            url = reverse("admin:tracking_progressreport_workflow", args=[report_id])
            response = client.post(url, {"step": step, "note": note})
            assert response.status_code == 302
            messages = [str(m) for m in response.wsgi_request._messages]
            assert not any("不能" in m or "无权" in m for m in messages), messages
        return run

    def admin_add(value, note=""):
        url = reverse("admin:tracking_progressreport_add")
        data = {**form_of(reporter_admin.get(url)), "target": str(target.pk), "period_end": next(day).isoformat(),
                "value": value, "note": note, "qualifier": "exact"}
        response = reporter_admin.post(url, data)
        assert response.status_code == 302, form_errors(response)
        return ProgressReport.objects.latest("created_at").pk

    def admin_change(client, model_name, pk, **fields):
        def run():
            url = reverse(f"admin:tracking_{model_name}_change", args=[pk])
            data = {**form_of(client.get(url)), **fields}
            response = client.post(url, data)
            assert response.status_code == 302, form_errors(response)
        return run

    def report(pk):
        return ProgressReport.objects.get(pk=pk)

    # 1–8: a report through the API, returned once and then approved.
    a = audit.step(lambda: api_create("100"), user=tongzhou_reporter, model=ProgressReport, kind="+",
                   values={"value": Decimal("100"), "status": S.DRAFT})
    audit.step(api_call(reporter_api, "patch", f"/api/v1/progress-reports/{a}/", {"value": "150"}),
               user=tongzhou_reporter, model=ProgressReport, kind="~", changed={"value": (Decimal("100"), Decimal("150"))})
    audit.step(api_call(reporter_api, "post", f"/api/v1/progress-reports/{a}/submit/"),
               user=tongzhou_reporter, model=ProgressReport, kind="~", changed={"status": (S.DRAFT, S.SUBMITTED)})
    audit.step(api_call(reviewer_api, "post", f"/api/v1/progress-reports/{a}/return/", {"review_note": "请附名单"}),
               user=nantong_reviewer, model=ProgressReport, kind="~",
               changed={"status": (S.SUBMITTED, S.RETURNED), "review_note": ("", "请附名单"),
                        "reviewed_by": (None, nantong_reviewer.pk)})
    audit.step(api_call(reporter_api, "patch", f"/api/v1/progress-reports/{a}/", {"note": "名单已附"}),
               user=tongzhou_reporter, model=ProgressReport, kind="~", changed={"note": ("", "名单已附")})
    audit.step(api_call(reporter_api, "post", f"/api/v1/progress-reports/{a}/submit/"),
               user=tongzhou_reporter, model=ProgressReport, kind="~", changed={"status": (S.RETURNED, S.SUBMITTED)})
    audit.step(api_call(reviewer_api, "post", f"/api/v1/progress-reports/{a}/approve/", {"review_note": "同意"}),
               user=nantong_reviewer, model=ProgressReport, kind="~",
               changed={"status": (S.SUBMITTED, S.APPROVED), "review_note": ("请附名单", "同意")})
    b = audit.step(lambda: api_create("7"), user=tongzhou_reporter, model=ProgressReport, kind="+")
    audit.step(api_call(reporter_api, "delete", f"/api/v1/progress-reports/{b}/", expect=204),
               user=tongzhou_reporter, model=ProgressReport, kind="-", values={"id": b, "value": Decimal("7")})

    # 10–19: the same through the admin's forms and workflow buttons.
    c = audit.step(lambda: admin_add("200", "六月"), user=tongzhou_reporter, model=ProgressReport, kind="+",
                   values={"value": Decimal("200"), "note": "六月"})
    audit.step(admin_change(reporter_admin, "progressreport", c, value="210"),
               user=tongzhou_reporter, model=ProgressReport, kind="~", changed={"value": (Decimal("200"), Decimal("210"))})
    audit.step(admin_workflow(reporter_admin, c, "submit"),
               user=tongzhou_reporter, model=ProgressReport, kind="~", changed={"status": (S.DRAFT, S.SUBMITTED)})
    audit.step(admin_workflow(reviewer_admin, c, "approve", "核实无误"),
               user=nantong_reviewer, model=ProgressReport, kind="~",
               changed={"status": (S.SUBMITTED, S.APPROVED), "review_note": ("", "核实无误"),
                        "reviewed_by": (None, nantong_reviewer.pk)})
    audit.step(admin_workflow(reviewer_admin, c, "return", "数字有误，重新核对"),
               user=nantong_reviewer, model=ProgressReport, kind="~",
               changed={"status": (S.APPROVED, S.RETURNED), "review_note": ("核实无误", "数字有误，重新核对")})
    audit.step(admin_change(reporter_admin, "progressreport", c, value="205", note="已核对"),
               user=tongzhou_reporter, model=ProgressReport, kind="~",
               changed={"value": (Decimal("210"), Decimal("205")), "note": ("六月", "已核对")})
    old_value = target.target_value
    audit.step(admin_change(manager_admin, "target", target.pk, target_value="13000"),
               user=tongzhou_manager, model=Target, kind="~", changed={"target_value": (old_value, Decimal("13000"))})
    audit.step(admin_change(manager_admin, "programme", target.programme_id, description="年中调整目标"),
               user=tongzhou_manager, model=Programme, kind="~", changed={"description": ("", "年中调整目标")})
    d = audit.step(lambda: admin_add("3"), user=tongzhou_reporter, model=ProgressReport, kind="+")

    def admin_delete():
        url = reverse("admin:tracking_progressreport_delete", args=[d])
        assert reporter_admin.post(url, {"post": "yes"}).status_code == 302
    audit.step(admin_delete, user=tongzhou_reporter, model=ProgressReport, kind="-", values={"id": d})

    # 20–50: ten more reports, alternating channels, each entered, submitted and decided.
    while audit.steps < 50:
        n = audit.steps
        value = str(10 + n)
        if n % 2:
            pk = audit.step(lambda: api_create(value), user=tongzhou_reporter, model=ProgressReport, kind="+",
                            values={"value": Decimal(value)})
            submit = api_call(reporter_api, "post", f"/api/v1/progress-reports/{pk}/submit/")
            decide = api_call(reviewer_api, "post", f"/api/v1/progress-reports/{pk}/approve/")
        else:
            pk = audit.step(lambda: admin_add(value), user=tongzhou_reporter, model=ProgressReport, kind="+",
                            values={"value": Decimal(value)})
            submit = admin_workflow(reporter_admin, pk, "submit")
            decide = admin_workflow(reviewer_admin, pk, "approve")
        for action, user, status in ((submit, tongzhou_reporter, S.SUBMITTED), (decide, nantong_reviewer, S.APPROVED)):
            if audit.steps < 50:
                audit.step(action, user=user, model=ProgressReport, kind="~", values={"status": status})

    assert audit.steps == 50
    approved = ProgressReport.objects.filter(status=S.APPROVED)
    # Every approved figure's history names its reviewer at the moment of approval.
    for report_ in approved:
        approval = report_.history.filter(status=S.APPROVED).earliest("history_date")
        assert approval.history_user == nantong_reviewer and approval.value == report_.value


def form_errors(response):
    context = getattr(response, "context", None) or {}
    form = context.get("adminform")
    return form.form.errors if form else response.content.decode()[-1500:]
