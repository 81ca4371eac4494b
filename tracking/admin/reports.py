"""Progress reports: entry, the review workflow's buttons and actions, evidence and the export."""

import os

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.widgets import AdminFileWidget, AutocompleteSelect
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import access, progress, services, workflow
from ..evidence import evidence_response
from ..exports import ProgressReportResource, spreadsheet_response
from ..models import ProgressReport, Target
from .display import evidence_url, quantity, report_badge, target_choice_label
from .filters import ReportRegionFilter, ReportYearFilter, region_fixed
from .imports import ImportViews
from .scope import REFUSALS, STYLES, ScopedHistoryAdmin, ServiceRefused, refusal, refusals_as_messages

Status = ProgressReport.Status


class EvidenceLink:
    def __init__(self, file, url):
        self.url, self.name = url, os.path.basename(file.name)

    def __str__(self):
        return self.name


class EvidenceWidget(AdminFileWidget):
    """Links the current file to the permission-checked view instead of MEDIA_URL."""

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        report = getattr(value, "instance", None)
        if context["widget"]["is_initial"] and report is not None and report.pk:
            context["widget"]["value"] = EvidenceLink(value, evidence_url(report))
        return context


class TargetChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, target):
        return target_choice_label(target)


class ReturnForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("审核意见"), widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
                           max_length=2000)


ENTRY_FIELDS = ["target", "period_end", "value", "qualifier", "note", "evidence"]
REVIEW_FIELDS = [
    "status_badge", "created_by", "created_at", "submitted_at_display", "reviewed_by", "reviewed_at", "review_note",
]


@admin.register(ProgressReport)
class ProgressReportAdmin(ImportViews, ScopedHistoryAdmin):
    list_display = [
        "period_end", "region", "target_label", "value_display", "qualifier", "status_badge", "created_by",
        "reviewed_by", "reviewed_at", "evidence_link",
    ]
    list_display_links = ["period_end"]
    list_select_related = ["target__programme__region", "target__item", "created_by", "reviewed_by"]
    list_filter = ["status", ReportRegionFilter, ReportYearFilter]
    search_fields = ["target__name", "target__code", "note"]
    actions = ["submit_reports", "approve_reports", "return_reports"]
    # A search over the user's targets (TargetAdmin.autocomplete_queryset) instead of a list of all of them.
    autocomplete_fields = ["target"]
    change_list_template = "admin/tracking/progressreport/change_list.html"
    change_form_template = "admin/tracking/progressreport/change_form.html"
    list_per_page = 50
    # As on the target list: the filtered count is enough.
    show_full_result_count = False

    class Media:
        css = STYLES

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(
            "target__programme__region", "target__item", "created_by", "reviewed_by"
        )

    def lookup_allowed(self, lookup, value, request=None):
        # The completeness grid's cells link here with their period's dates.
        if lookup in ("period_end__gte", "period_end__lte"):
            return True
        return super().lookup_allowed(lookup, value, request)

    def get_list_display(self, request):
        # As on the target list: a district's own clerk needs no 地区 column.
        shown = list(self.list_display)
        if region_fixed(request):
            shown.remove("region")
        return shown

    # Permissions: scope first, then the workflow's own rules through services.

    def has_change_permission(self, request, obj=None):
        if not super().has_change_permission(request, obj):
            return False
        return obj is None or may_take(request.user, obj, "edit")

    def has_delete_permission(self, request, obj=None):
        if not super().has_delete_permission(request, obj):
            return False
        return obj is None or may_take(request.user, obj, "delete")

    def has_submit_permission(self, request):
        return access.enters_reports(request.user)

    def has_review_permission(self, request):
        return access.reviews_reports(request.user)

    # Forms.

    def get_fieldsets(self, request, obj=None):
        entry = list(ENTRY_FIELDS)
        if obj is not None and not self.has_change_permission(request, obj):
            entry[entry.index("evidence")] = "evidence_link"
            # Read-only, Django would show the stored 6000.0000.
            entry[entry.index("value")] = "value_text"
        if obj is not None and obj.source_quote:
            entry.append("source_quote")
        fieldsets = [(None, {"fields": entry})]
        if obj is not None:
            fieldsets.append((_("审核"), {"fields": REVIEW_FIELDS}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        # A report stays with its target: the services lock and check that one.
        moved = ["target"] if obj is not None else []
        return [*REVIEW_FIELDS, "evidence_link", "value_text", "source_quote", *moved]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "target":
            # What the form accepts; the widget searches the same targets (TargetAdmin.autocomplete_queryset).
            queryset = Target.objects.visible_to(request.user).select_related("programme__region")
            return TargetChoiceField(
                queryset=queryset, label=db_field.verbose_name, required=True,
                widget=AutocompleteSelect(db_field, self.admin_site),
                help_text=_("点开后输入编号或名称搜索；只列出您所在地区的指标"),
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "evidence":
            kwargs["widget"] = EvidenceWidget
        if db_field.name == "note":
            kwargs["widget"] = forms.Textarea(attrs={"rows": 3, "cols": 60})
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    # Writes: every one through the workflow services.

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            if change:
                fields = {
                    name: (data[name] or "") if name == "evidence" else data[name]
                    for name in form.changed_data if name in ENTRY_FIELDS
                }
                report = services.update_report(user=request.user, report=obj, **fields) if fields else obj
            else:
                report = services.create_report(
                    user=request.user, target=data["target"], period_end=data["period_end"], value=data["value"],
                    qualifier=data["qualifier"], note=data["note"], evidence=data.get("evidence") or None,
                )
            if "_submit" in request.POST:
                report = services.submit_report(user=request.user, report=report)
        except REFUSALS as error:
            raise ServiceRefused(refusal(error)) from error
        # The admin goes on with obj (change message, redirect): make it the saved report.
        obj.pk, obj.status, obj.created_by_id = report.pk, report.status, report.created_by_id
        obj._state.adding = False

    def response_add(self, request, obj, post_url_continue=None):
        if "_submit" in request.POST:
            self.message_user(request, _("已提交审核：%(report)s") % {"report": obj}, messages.SUCCESS)
            return self.response_post_save_add(request, obj)
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if "_submit" in request.POST:
            self.message_user(request, _("已提交审核：%(report)s") % {"report": obj}, messages.SUCCESS)
            return self.response_post_save_change(request, obj)
        return super().response_change(request, obj)

    def delete_model(self, request, obj):
        try:
            services.delete_report(user=request.user, report=obj)
        except REFUSALS as error:
            raise ServiceRefused(refusal(error)) from error

    def delete_queryset(self, request, queryset):
        for report in queryset:
            self.delete_model(request, report)

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        # Shown as "cannot delete" on the confirmation page, which then refuses the POST.
        for report in objs:
            if not self.has_delete_permission(request, report):
                perms_needed.add(f"{report}（{report.get_status_display()}）")
        return deleted, counts, perms_needed, protected

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return refusals_as_messages(self, request, super().changeform_view, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        return refusals_as_messages(self, request, super().delete_view, object_id, extra_context)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        user = request.user
        editable = obj is None or self.has_change_permission(request, obj)
        context["can_save_and_submit"] = editable and access.enters_reports(user) and (
            obj is None or may_take(user, obj, "submit")
        )
        if obj is not None:
            steps = workflow.steps_for(user, obj, in_scope=True)
            context["workflow_steps"] = steps
            context["workflow_url"] = reverse("admin:tracking_progressreport_workflow", args=[obj.pk])
            context["review"] = review_figures(obj)
            context["may_publish"] = bool(obj.evidence) and may_take(user, obj, "publish")
            if "approve" in steps:
                context["title"] = _("审核填报")
        return super().render_change_form(request, context, add, change, form_url, obj)

    # List columns.

    @admin.display(description=gettext_lazy("地区"), ordering="target__programme__region")
    def region(self, report):
        return report.target.programme.region.name

    @admin.display(description=gettext_lazy("指标"), ordering="target")
    def target_label(self, report):
        t = report.target
        return f"{t.programme.year} · {t.item.number} · {t.code} {t.name}"

    @admin.display(description=gettext_lazy("数值"))
    def value_text(self, report):
        return quantity(report.value, report.target.unit)

    @admin.display(description=gettext_lazy("数值"), ordering="value")
    def value_display(self, report):
        text = quantity(report.value, report.target.unit)
        if report.status == Status.SUBMITTED:
            return format_html('<span class="tt-pending" title="{}">{}（{}）</span>', _("待审核，尚未计入进度"),
                               text, _("待审"))
        if report.status != Status.APPROVED:
            return format_html('<span class="tt-uncounted" title="{}">{}</span>', _("未计入进度"), text)
        return text

    @admin.display(description=gettext_lazy("报送时间"))
    def submitted_at_display(self, report):
        # The moment timeliness is judged from (tracking.followup.selectors), in local time as the
        # admin shows every other moment; a dash while never submitted (a read-only callable's None
        # would show as "None").
        if report.submitted_at is None:
            return "—"
        return formats.localize(timezone.template_localtime(report.submitted_at))

    @admin.display(description=gettext_lazy("状态"), ordering="status")
    def status_badge(self, report):
        return report_badge(report.status)

    @admin.display(description=gettext_lazy("佐证材料"))
    def evidence_link(self, report):
        if not report or not report.evidence:
            return "—"
        return format_html('<a href="{}">{}</a>', evidence_url(report), os.path.basename(report.evidence.name))

    # Actions: each report on its own, so that one refusal does not block the rest.

    def _each(self, request, queryset, step, done_message, **kwargs):
        done, refused = 0, []
        for report in queryset:
            try:
                step(user=request.user, report=report, **kwargs)
                done += 1
            except REFUSALS as error:
                refused.append(f"{report.target.code} {report.period_end}：{refusal(error)}")
        if done:
            self.message_user(request, done_message % {"n": done}, messages.SUCCESS)
        if refused:
            self.message_user(
                request, _("%(n)d 条未处理：") % {"n": len(refused)} + "；".join(refused[:10]), messages.WARNING
            )

    @admin.action(description=gettext_lazy("提交审核所选填报"), permissions=["submit"])
    def submit_reports(self, request, queryset):
        self._each(request, queryset, services.submit_report, _("已提交审核 %(n)d 条"))

    @admin.action(description=gettext_lazy("审核通过所选填报"), permissions=["review"])
    def approve_reports(self, request, queryset):
        self._each(request, queryset, services.approve_report, _("已审核通过 %(n)d 条"))

    @admin.action(description=gettext_lazy("退回所选填报（需填写意见）"), permissions=["review"])
    def return_reports(self, request, queryset):
        form = ReturnForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            self._each(request, queryset, services.return_report, _("已退回 %(n)d 条"), note=form.cleaned_data["note"])
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("退回填报"),
            "opts": self.model._meta,
            "reports": queryset,
            "form": form,
            "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
        }
        return TemplateResponse(request, "admin/tracking/progressreport/return.html", context)

    # Extra pages.

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("export/", view(self.export_view), name="tracking_progressreport_export"),
            path("import/", view(self.import_view), name="tracking_progressreport_import"),
            path("import/confirm/", view(self.import_confirm_view), name="tracking_progressreport_import_confirm"),
            path("<path:object_id>/evidence/", view(self.evidence_view), name="tracking_progressreport_evidence"),
            path("<path:object_id>/workflow/", view(self.workflow_view), name="tracking_progressreport_workflow"),
        ] + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        query = request.GET.copy()
        links = {}
        for fmt in ("xlsx", "csv"):
            query["format"] = fmt
            links[fmt] = reverse("admin:tracking_progressreport_export") + "?" + query.urlencode()
        extra_context = {
            **(extra_context or {}),
            "export_links": links,
            "can_import": self.has_import_permission(request),
        }
        return super().changelist_view(request, extra_context)

    def export_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        # The export follows the list's filters and search, minus our own parameter.
        request.GET = request.GET.copy()
        fmt = request.GET.pop("format", ["xlsx"])[0]
        try:
            queryset = self.get_changelist_instance(request).get_queryset(request)
        except IncorrectLookupParameters:
            return HttpResponse(_("筛选条件无效"), status=400)
        dataset = ProgressReportResource().export(ProgressReportResource.export_queryset(queryset))
        return spreadsheet_response(dataset, fmt, f"progress-reports-{timezone.localdate():%Y%m%d}")

    def evidence_view(self, request, object_id):
        report = self.get_object(request, object_id)
        if not self.has_view_permission(request, report):
            raise Http404
        return evidence_response(report)

    def workflow_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponse(status=405)
        if not self.has_view_permission(request):
            raise PermissionDenied
        report = self.get_object(request, object_id)
        if not self.has_view_permission(request, report):
            # Deleted by another request since get_object() found it: as missing.
            raise Http404
        step = request.POST.get("step")
        note = request.POST.get("note", "")
        steps = {
            "submit": (lambda: services.submit_report(user=request.user, report=report), _("已提交审核")),
            "approve": (lambda: services.approve_report(user=request.user, report=report, note=note), _("已审核通过")),
            "return": (lambda: services.return_report(user=request.user, report=report, note=note), _("已退回")),
            "publish": (
                lambda: services.publish_evidence(user=request.user, report=report, public=True), _("佐证材料已在公示页面公开")
            ),
            "unpublish": (
                lambda: services.publish_evidence(user=request.user, report=report, public=False), _("佐证材料已取消公开")
            ),
        }
        if step not in steps:
            return HttpResponse(status=400)
        run, done = steps[step]
        try:
            run()
            self.message_user(request, f"{report}：{done}", messages.SUCCESS)
        except REFUSALS as error:
            self.message_user(request, refusal(error), messages.ERROR)
        next_url = request.GET.get("next")
        if not next_url or not url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
            next_url = reverse("admin:tracking_progressreport_change", args=[report.pk])
        return HttpResponseRedirect(next_url)


def review_figures(report):
    """What the report's page shows above its form: the target, its progress, and what this report brings."""
    target = Target.objects.with_progress().select_related("programme__region").get(pk=report.target_id)
    after = progress.progress_once_counted(target, report)
    return {
        "target": target,
        "target_value": quantity(target.target_value, target.unit),
        "progress": quantity(target.progress, target.unit),
        "completion": target.completion,
        "value": quantity(report.value, target.unit),
        "after": quantity(after, target.unit),
        "after_completion": progress.completion_value(after, target.target_value),
        "changes_progress": after != target.progress,
        "counted": report.status == Status.APPROVED,
    }


def may_take(user, report, step):
    """Whether the workflow lets this user take this step on this report, which is among their regions
    (every report the admin shows comes from its scoped queryset)."""
    return step in workflow.steps_for(user, report, in_scope=True, steps=(step,))
