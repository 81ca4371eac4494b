"""Targets with their progress, and new reports entered from a target's page."""

import functools

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import access, services, workflow
from ..models import ProgressReport, Target
from ..charts import progress_chart
from ..progress import progress_series
from .bulletin import bulletin_view
from .dashboard import dashboard_view
from .display import (
    evidence_url, number, percent, quantity, report_badge, status_badge, target_bar, target_choice_label,
)
from .filters import CategoryFilter, KindFilter, OwnYearFilter, RegionFilter, TargetStatusFilter, region_fixed
from .scope import (
    REFUSALS, STYLES, DeletesThroughService, ScopedHistoryAdmin, ScopedInlineMixin, ServiceRefused, refusal, refusals_as_messages,
)


def can_add_reports(user, target):
    return user.has_perm("tracking.add_progressreport") and access.may_enter(user, target)


class NewReportInline(ScopedInlineMixin, admin.TabularInline):
    """Adds reports from the target's page. Existing reports are listed above it,
    each with its own page, because what may change depends on each one's status."""

    model = ProgressReport
    fields = ["period_end", "value", "qualifier", "note", "evidence"]
    extra = 1
    can_delete = False
    verbose_name = gettext_lazy("新增进度填报")
    verbose_name_plural = gettext_lazy("新增进度填报")

    def get_queryset(self, request):
        return ProgressReport.objects.none()

    def has_view_permission(self, request, obj=None):
        return self.has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request, obj=None):
        return obj is not None and can_add_reports(request.user, obj)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "note":
            kwargs["widget"] = forms.Textarea(attrs={"rows": 2, "cols": 30})
        return super().formfield_for_dbfield(db_field, request, **kwargs)


TARGET_FIELDS = ["programme", "item", "code", "name", "unit", "target_value", "measure", "aggregation", "due_date"]


@admin.register(Target)
class TargetAdmin(DeletesThroughService, ScopedHistoryAdmin):
    list_display = [
        "region", "programme_title", "code", "name", "target", "progress", "bar", "status_badge", "last_reported",
    ]
    list_display_links = ["code", "name"]
    list_select_related = ["programme__region"]
    list_filter = [RegionFilter, OwnYearFilter, KindFilter, CategoryFilter, TargetStatusFilter]
    # Also what the add-report form's target autocomplete searches (autocomplete_queryset below).
    search_fields = ["code", "name", "programme__region__name"]
    inlines = [NewReportInline]
    list_per_page = 50
    # The filtered count is enough; the unfiltered "N total" is a second COUNT
    # over every visible target on each page view.
    show_full_result_count = False
    # A district has a few dozen targets a year; "show all" fits all of them on one page.
    list_max_show_all = 1000

    class Media:
        css = STYLES

    def get_queryset(self, request):
        # Every figure on these pages comes from with_progress(), in the list's one query.
        return super().get_queryset(request).with_progress()

    def get_list_display(self, request):
        # A column that a filter (or the user's scope) fixes says the same on every row.
        shown = list(self.list_display)
        if region_fixed(request):
            shown.remove("region")
        if "programme__id__exact" in request.GET or (
            region_fixed(request) and request.GET.get("year") and request.GET.get("kind")
        ):
            shown.remove("programme_title")
        return shown

    def autocomplete_queryset(self, request):
        # The add-report form's target search: the user's targets, latest year first,
        # without the progress figures the lists compute.
        return (
            Target.objects.visible_to(request.user).select_related("programme__region")
            .order_by("-year", *Target._meta.ordering)
        )

    def autocomplete_label(self, target):
        return target_choice_label(target)

    def get_fieldsets(self, request, obj=None):
        fields = list(TARGET_FIELDS)
        fieldsets = [(None, {"fields": fields})]
        if obj is not None and not request.user.has_perm("tracking.change_target"):
            # Read-only, Django would show the stored 12000.0000.
            fields[fields.index("target_value")] = "target_value_display"
            # Whoever cannot change the target comes to add reports (the inline below) or to
            # read its progress: its definition is folded away, one click from view.
            fieldsets = [(_("指标信息"), {"fields": fields, "classes": ["collapse"]})]
        if obj is not None:
            fieldsets.insert(0, (_("进度"), {"fields": ["progress_summary", "reports_table"]}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        readonly = ["progress_summary", "reports_table", "target_value_display"]
        if obj is not None and not request.user.has_perm("tracking.change_target"):
            readonly += TARGET_FIELDS
        elif obj is not None:
            # Its reports were checked against this programme's period and region.
            readonly += ["programme", "item"]
        return readonly

    def has_change_permission(self, request, obj=None):
        if super().has_change_permission(request, obj):
            return True
        # Reporters may not change a target, but they post its page to add reports
        # through the inline; the target's own fields are then read-only.
        return obj is not None and can_add_reports(request.user, obj)

    def get_object(self, request, object_id, from_field=None):
        target = super().get_object(request, object_id, from_field)
        # The reports table (a read-only field, which gets only the object) offers
        # buttons that depend on who is looking.
        target.viewer = request.user
        return target

    def save_model(self, request, obj, form, change):
        # For response_change: whether the target itself changed, or reports were only added to it.
        request._tracking_target_changed = change and form.has_changed()
        if not change or request.user.has_perm("tracking.change_target"):
            services.save_target(target=obj)

    def delete_through_service(self, obj):
        services.delete_target(target=obj)

    def save_formset(self, request, form, formset, change):
        if formset.model is not ProgressReport:
            return super().save_formset(request, form, formset, change)
        # The admin's change message reads these three lists.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for inline_form in formset.extra_forms:
            if not inline_form.has_changed():
                continue
            data = inline_form.cleaned_data
            try:
                formset.new_objects.append(services.create_report(
                    user=request.user, target=form.instance, period_end=data["period_end"], value=data["value"],
                    qualifier=data["qualifier"], note=data["note"], evidence=data.get("evidence") or None,
                ))
            except REFUSALS as error:
                raise ServiceRefused(refusal(error)) from error
        request._tracking_added_reports = formset.new_objects

    def response_change(self, request, obj):
        """Says what was done: adding reports from the target's page does not change the target."""
        added = getattr(request, "_tracking_added_reports", [])
        for report in added:
            self.message_user(
                request, _("已新增填报“%(report)s”。它是草稿：提交审核并通过后才计入进度") % {"report": report},
                messages.SUCCESS,
            )
        if getattr(request, "_tracking_target_changed", False):
            return super().response_change(request, obj)
        if not added:
            self.message_user(request, _("没有填写新的填报，未做修改"), messages.INFO)
        if "_continue" in request.POST:
            return HttpResponseRedirect(request.get_full_path())
        return self.response_post_save_change(request, obj)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and not request.user.has_perm("tracking.change_target") and can_add_reports(request.user, obj):
            # Django says "修改 指标" to whoever may post the page; a reporter only adds reports to it.
            context["title"] = _("填报进度")
        return super().render_change_form(request, context, add, change, form_url, obj)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return refusals_as_messages(self, request, super().changeform_view, object_id, form_url, extra_context)

    @admin.display(description=gettext_lazy("地区"), ordering="programme__region")
    def region(self, target):
        return target.programme.region.name

    @admin.display(description=gettext_lazy("计划"), ordering="programme")
    def programme_title(self, target):
        return f"{target.programme.year} {target.programme.get_kind_display()}"

    @admin.display(description=gettext_lazy("目标"), ordering="target_value")
    def target(self, target):
        return quantity(target.target_value, target.unit)

    @admin.display(description=gettext_lazy("目标值"))
    def target_value_display(self, target):
        return quantity(target.target_value, target.unit)

    @admin.display(description=gettext_lazy("已完成"), ordering="progress")
    def progress(self, target):
        done = quantity(target.progress, target.unit)
        if not target.pending_count:
            return done
        return format_html(
            '{} <span class="tt-pending" title="{}">+{} {}</span>', done,
            _("%(n)d 条填报待审核，尚未计入") % {"n": target.pending_count}, number(target.pending_value),
            _("待审"),
        )

    @admin.display(description=gettext_lazy("完成率"), ordering="completion")
    def bar(self, target):
        return target_bar(target)

    @admin.display(description=gettext_lazy("状态"), ordering="status")
    def status_badge(self, target):
        return status_badge(target.status)

    @admin.display(description=gettext_lazy("最近填报"), ordering="last_reported_on")
    def last_reported(self, target):
        return target.last_reported_on.isoformat() if target.last_reported_on else "—"

    @admin.display(description=gettext_lazy("进度"))
    def progress_summary(self, target):
        if target is None or target.pk is None:
            return "—"
        lines = [
            (_("目标"), _("%(value)s，%(due)s 前完成") % {"value": quantity(target.target_value, target.unit),
                                                        "due": target.due_date}
             if target.target_value is not None else _("无目标值（仅填报数据）")),
            (_("已完成（已审核）"), self.progress(target)),
            (_("完成率"), target_bar(target)),
            (_("按时间今天应完成"), percent(target.expected)),
            (_("状态"), status_badge(target.status)),
            (_("最近填报截至"), target.last_reported_on or "—"),
            (_("进度变化"), progress_chart(target, list(progress_series(target)))),
        ]
        return format_html(
            '<dl class="tt-summary">{}</dl>', format_html_join("", "<dt>{}</dt><dd>{}</dd>", lines)
        )

    @admin.display(description=gettext_lazy("已有填报"))
    def reports_table(self, target):
        if target is None or target.pk is None:
            return "—"
        reports = target.reports.order_by("-period_end")
        if not reports:
            return _("尚无填报")
        viewer = getattr(target, "viewer", None)
        next_url = reverse("admin:tracking_target_change", args=[target.pk])
        rows = []
        for report in reports:
            change_url = reverse("admin:tracking_progressreport_change", args=[report.pk])
            action = ""
            # The page is only shown inside the viewer's regions.
            if viewer is not None and "submit" in workflow.steps_for(viewer, report, in_scope=True):
                step_url = reverse("admin:tracking_progressreport_workflow", args=[report.pk])
                action = format_html(
                    '<button type="submit" class="button" formaction="{}?next={}" formnovalidate '
                    'name="step" value="submit">{}</button>', step_url, next_url, _("提交审核"),
                )
            evidence = (
                format_html('<a href="{}">{}</a>', evidence_url(report), _("佐证")) if report.evidence else ""
            )
            note = report.note
            if report.status == ProgressReport.Status.RETURNED and report.review_note:
                # What the clerk has to fix comes first.
                note = format_html('<span class="tt-returned-note">{}{}</span> {}', _("退回意见："),
                                   report.review_note, report.note)
            rows.append((change_url, report.period_end, quantity(report.value, target.unit),
                         report_badge(report.status), note, evidence, action))
        body = format_html_join(
            "", '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>', rows
        )
        head = format_html(
            "<tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th></th></tr>",
            _("截至日期"), _("数值"), _("状态"), _("备注"), _("佐证材料"),
        )
        return format_html('<table class="tt-reports"><thead>{}</thead><tbody>{}</tbody></table>', head, body)

    def get_urls(self):
        view = self.admin_site.admin_view(functools.partial(dashboard_view, self))
        bulletin = self.admin_site.admin_view(functools.partial(bulletin_view, self))
        return [
            path("dashboard/", view, name="tracking_dashboard"),
            path("bulletin/", bulletin, name="tracking_bulletin"),
        ] + super().get_urls()
