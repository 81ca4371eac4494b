"""Targets with their progress, and new reports entered from a target's page."""

import functools

from django import forms
from django.contrib import admin
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import access, services, workflow
from ..models import ProgressReport, Target
from .dashboard import dashboard_view
from .display import evidence_url, number, percent, report_badge, status_badge, target_bar
from .filters import CategoryFilter, KindFilter, OwnYearFilter, RegionFilter, TargetStatusFilter
from .scope import REFUSALS, STYLES, DeletesThroughService, ScopedHistoryAdmin, ScopedInlineMixin, ServiceRefused, refusal, refusals_as_messages


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
        "region", "programme_title", "item_number", "name", "target", "progress", "bar", "status_badge",
        "last_reported",
    ]
    list_display_links = ["name"]
    list_select_related = ["programme__region", "item"]
    list_filter = [RegionFilter, OwnYearFilter, KindFilter, CategoryFilter, TargetStatusFilter]
    search_fields = ["name"]
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

    def get_fieldsets(self, request, obj=None):
        fieldsets = [(None, {"fields": TARGET_FIELDS})]
        if obj is not None:
            fieldsets.insert(0, (_("进度"), {"fields": ["progress_summary", "reports_table"]}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        readonly = ["progress_summary", "reports_table"]
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

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return refusals_as_messages(self, request, super().changeform_view, object_id, form_url, extra_context)

    @admin.display(description=gettext_lazy("地区"), ordering="programme__region")
    def region(self, target):
        return target.programme.region.name

    @admin.display(description=gettext_lazy("计划"), ordering="programme")
    def programme_title(self, target):
        return f"{target.programme.year} {target.programme.get_kind_display()}"

    @admin.display(description=gettext_lazy("事项"), ordering="item__number")
    def item_number(self, target):
        return target.item.number

    @admin.display(description=gettext_lazy("目标"), ordering="target_value")
    def target(self, target):
        if target.target_value is None:
            return "—"
        return f"{number(target.target_value)} {target.unit}"

    @admin.display(description=gettext_lazy("已完成"), ordering="progress")
    def progress(self, target):
        done = "—" if target.progress is None else f"{number(target.progress)} {target.unit}"
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
        return target.last_reported_on or "—"

    @admin.display(description=gettext_lazy("进度"))
    def progress_summary(self, target):
        if target is None or target.pk is None:
            return "—"
        lines = [
            (_("已完成（已审核）"), self.progress(target)),
            (_("完成率"), target_bar(target)),
            (_("按时间今天应完成"), percent(target.expected)),
            (_("状态"), status_badge(target.status)),
            (_("最近填报截至"), target.last_reported_on or "—"),
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
            rows.append((change_url, report.period_end, number(report.value), target.unit,
                         report_badge(report.status), report.note, evidence, action))
        body = format_html_join(
            "", '<tr><td><a href="{}">{}</a></td><td>{} {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>', rows
        )
        head = format_html(
            "<tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th></th></tr>",
            _("截至日期"), _("数值"), _("状态"), _("备注"), _("佐证材料"),
        )
        return format_html('<table class="tt-reports"><thead>{}</thead><tbody>{}</tbody></table>', head, body)

    def get_urls(self):
        view = self.admin_site.admin_view(functools.partial(dashboard_view, self))
        return [path("dashboard/", view, name="tracking_dashboard")] + super().get_urls()
