"""History pages that a clerk can read: events in Chinese, in local time; a target's include its reports'.

django-simple-history keeps a version of every row at every save. Its own
page lists them with English headers, raw codes ("approved → returned"),
"None" and "Deleted 用户 (pk=None)" for empty values, UTC with microseconds,
and a target's page shows nothing of the reports added to it. This page reads
the same versions and says what happened: 新增填报, 提交审核, 审核通过, 退回.
Old versions can still be opened one by one (ScopedHistoryAdmin's
history_form_view, read-only).
"""

import os

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import models
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..models import ProgressReport, Target
from ..numbers import grouped, quantity

Status = ProgressReport.Status
# A page of events; a target gathers a few dozen in a year.
EVENTS_SHOWN = 200
# Columns every version repeats, or that only the system writes.
NOT_SHOWN = {"id", "updated_at", "created_at", "target", "programme", "source_quote"}
# A report's who and when of entry and review: the event's own 操作人 and 时间 say it.
NOT_SHOWN_FOR_REPORTS = {"created_by", "reviewed_by", "reviewed_at"}
# A report's event is named by the status it reached.
STEP_NAMES = {
    Status.SUBMITTED: gettext_lazy("提交审核"),
    Status.APPROVED: gettext_lazy("审核通过"),
    Status.RETURNED: gettext_lazy("退回"),
    Status.DRAFT: gettext_lazy("改回草稿"),
}


def local_time(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def person(user):
    if user is None:
        return "—"
    return user.get_full_name() or user.get_username()


class Versions:
    """The versions of one model's rows, turned into events."""

    def __init__(self, model, records, users, unit_of=None):
        self.model, self.records, self.users = model, records, users
        # A figure's unit: the target's, for its own value and for its reports'.
        self.unit_of = unit_of or (lambda record: "")
        hidden = NOT_SHOWN | (NOT_SHOWN_FOR_REPORTS if model is ProgressReport else set())
        # The model's fields that its history keeps (a target's stored totals it does not).
        kept = {f.name for f in model.history.model._meta.concrete_fields}
        self.fields = [f for f in model._meta.concrete_fields if f.name in kept and f.name not in hidden]

    def events(self):
        # The rows other foreign keys point to (an item, a region), one query per model.
        self.related = {}
        for f in self.fields:
            if isinstance(f, models.ForeignKey) and f.related_model is not get_user_model():
                ids = {getattr(record, f.attname) for record in self.records} - {None}
                self.related[f.name] = f.related_model._default_manager.in_bulk(ids) if ids else {}
        previous = {}
        events = []
        # Oldest first, so that each version is compared with the one before it.
        for record in sorted(self.records, key=lambda r: (r.history_date, r.history_id)):
            before = previous.get(record.id)
            previous[record.id] = record
            events.append(self.event(record, before))
        return events

    def event(self, record, before):
        if record.history_type == "+":
            changes = [(f.verbose_name, None, self.show(f, record)) for f in self.fields if not self.empty(f, record)]
        elif before is None:
            changes = []
        else:
            changes = [
                (f.verbose_name, self.show(f, before), self.show(f, record))
                for f in self.fields
                if getattr(before, f.attname) != getattr(record, f.attname)
            ]
        return {
            "time": record.history_date,
            "when": local_time(record.history_date),
            "action": self.action(record, before),
            "who": person(record.history_user),
            "reason": record.history_change_reason or "",
            "changes": changes,
            "record": record,
        }

    def action(self, record, before):
        name = self.model._meta.verbose_name
        if record.history_type == "+":
            return _("新增%(name)s") % {"name": name}
        if record.history_type == "-":
            return _("删除%(name)s") % {"name": name}
        if self.model is ProgressReport and before is not None and before.status != record.status:
            if before.status == Status.APPROVED and record.status == Status.RETURNED:
                return _("重新打开（退回）")
            return str(STEP_NAMES.get(record.status, _("修改")))
        if self.model is ProgressReport and before is not None and before.evidence_public != record.evidence_public:
            return _("公开佐证材料") if record.evidence_public else _("取消公开佐证材料")
        return _("修改%(name)s") % {"name": name}

    def empty(self, field, record):
        value = getattr(record, field.attname)
        return value in (None, "") or (
            (field.choices or isinstance(field, models.BooleanField)) and field.has_default()
            and value == field.get_default()
        )

    def show(self, field, record):
        value = getattr(record, field.attname)
        if value in (None, ""):
            return "—"
        if field.choices:
            return str(dict(field.flatchoices).get(value, value))
        if isinstance(field, models.BooleanField):
            return _("是") if value else _("否")
        if isinstance(field, models.ForeignKey) and field.related_model is get_user_model():
            return person(self.users.get(value))
        if isinstance(field, models.ForeignKey):
            return str(self.related[field.name].get(value, value))
        if isinstance(field, models.DecimalField):
            return quantity(value, self.unit_of(record)) if self.unit_of(record) else grouped(value)
        if isinstance(field, models.DateTimeField):
            return local_time(value)
        if isinstance(field, models.FileField):
            return os.path.basename(str(value))
        return str(value)


def users_named_in(*record_lists):
    """The users the versions name (who saved them, who entered and who reviewed), in one query."""
    ids = set()
    for records in record_lists:
        for record in records:
            ids.update(filter(None, (getattr(record, "created_by_id", None), getattr(record, "reviewed_by_id", None))))
    return get_user_model().objects.in_bulk(ids) if ids else {}


class HistoryPage:
    """A model admin's history page (mixed into a ScopedHistoryAdmin)."""

    history_template = "admin/tracking/history.html"
    # simple-history's page for one version, with breadcrumbs that do not say "Historical 进度填报".
    object_history_form_template = "admin/tracking/history_version.html"

    def history_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, object_id)
        if not self.has_view_permission(request, obj):
            raise PermissionDenied
        own = list(
            self.model.history.filter(id=obj.pk).select_related("history_user").order_by("-history_date")[:EVENTS_SHOWN]
        )
        reports = []
        if self.model is Target:
            reports = list(
                ProgressReport.history.filter(target_id=obj.pk).select_related("history_user")
                .order_by("-history_date")[:EVENTS_SHOWN]
            )
        users = users_named_in(own, reports)
        unit = (lambda record: obj.unit) if self.model is Target else (
            (lambda record: obj.target.unit) if self.model is ProgressReport else None
        )
        events = Versions(self.model, own, users, unit).events()
        if reports:
            existing = set(ProgressReport.objects.filter(target=obj).order_by().values_list("pk", flat=True))
            for event in Versions(ProgressReport, reports, users, unit).events():
                record = event["record"]
                event["subject"] = f"{record.period_end} · {quantity(record.value, obj.unit)}"
                if record.id in existing:
                    event["url"] = reverse("admin:tracking_progressreport_change", args=[record.id])
                events.append(event)
        for event in events:
            if "url" not in event and event["record"].history_type != "-":
                event["version_url"] = reverse(
                    f"admin:{self.opts.app_label}_{self.opts.model_name}_simple_history",
                    args=[obj.pk, event["record"].history_id],
                )
        events.sort(key=lambda e: (e["time"], e["record"].history_id), reverse=True)
        context = {
            **self.admin_site.each_context(request),
            "title": _("历史记录"),
            "subtitle": str(obj),
            "object": obj,
            "opts": self.opts,
            "events": events[:EVENTS_SHOWN],
            "truncated": len(events) > EVENTS_SHOWN,
            "shows_reports": self.model is Target,
            **(extra_context or {}),
        }
        return TemplateResponse(request, self.history_template, context)
