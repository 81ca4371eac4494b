"""The Django admin: where district union clerks enter progress and city unions review it.

Two rules hold everywhere below. Every queryset, choice list and object
permission starts from visible_to(user), the one scoping rule in models.py.
Every change to a progress report goes through the workflow functions in
services.py, so the admin cannot do what the API may not.
"""

import datetime
import os
import uuid
from collections import Counter

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.widgets import AdminFileWidget
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db.models import Avg, Count, FloatField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce, Least
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export.formats.base_formats import CSV, XLSX
from simple_history.admin import SimpleHistoryAdmin

from . import services
from .admin_extract import extract_view
from .importing import COLUMNS, ImportFileError, import_reports, read_table
from .models import EVIDENCE_EXTENSIONS, Category, Item, Membership, Programme, ProgressReport, Region, Target, role_of
from .resources import ProgressReportResource, plain_number, programme_template

Status = ProgressReport.Status
# A target with no approved report for this long is listed on the dashboard.
STALE_AFTER_DAYS = 45
IMPORT_SESSION_KEY = "tracking_import"
IMPORT_PREVIEW_ROWS = 500
STYLES = {"all": ["tracking/admin.css"]}

admin.site.site_header = gettext_lazy("职工实事跟踪 · 管理后台")
admin.site.site_title = gettext_lazy("职工实事跟踪")
admin.site.index_title = gettext_lazy("数据填报与审核")
# The admin app's own index.html comes first in template lookup, so ours is named here.
admin.site.index_template = "admin/tracking/index.html"


# --- Display helpers ----------------------------------------------------------------


def number(value):
    """12000 → "12,000"; 0.5 → "0.5"; None → "—"."""
    if value is None:
        return "—"
    return format(plain_number(value), ",")


def percent(value):
    return "—" if value is None else f"{value:.0f}%"


def completion_bar(completion, expected, status):
    """A bar filled to the completion, with a tick at the progress expected by today."""
    fill = 0.0 if completion is None else max(0.0, min(float(completion), 100.0))
    tick = 0.0 if expected is None else max(0.0, min(float(expected), 100.0))
    title = _("完成 %(done)s，按时间应完成 %(expected)s") % {"done": percent(completion), "expected": percent(expected)}
    return format_html(
        '<span class="tt-progress" title="{}"><span class="tt-bar">'
        '<span class="tt-fill tt-{}" style="width: {}%"></span>'
        '<span class="tt-expected" style="left: {}%"></span></span>'
        '<span class="tt-pct">{}</span></span>',
        title, status or "none", f"{fill:.1f}", f"{tick:.1f}", percent(completion),
    )


def target_bar(target):
    # A figure that was only reported has nothing to complete.
    if target.target_value is None:
        return "—"
    return completion_bar(target.completion, target.expected, target.status)


def status_badge(status):
    if not status:
        return "—"
    return format_html('<span class="tt-badge tt-{}">{}</span>', status, Target.Status(status).label)


def report_badge(status):
    return format_html('<span class="tt-badge tt-report-{}">{}</span>', status, Status(status).label)


def evidence_url(report):
    return reverse("admin:tracking_progressreport_evidence", args=[report.pk])


class ServiceRefused(Exception):
    """A workflow service said no while the admin was saving; shown as a message."""


def refusal(error):
    if isinstance(error, ValidationError):
        return "；".join(error.messages)
    return str(error) or _("您无权执行此操作")


REFUSALS = (services.WorkflowConflict, PermissionDenied, ValidationError)


def can_submit_reports(user):
    return user.is_active and (user.is_superuser or role_of(user) in services.ENTRY_ROLES)


def can_review_reports(user):
    return user.is_active and (user.is_superuser or role_of(user) == Membership.Role.REVIEWER)


# --- Scope ------------------------------------------------------------------------------


class ScopedMixin:
    """Row-level scope on top of the model permissions of the role groups."""

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def in_scope(self, request, obj):
        # Asked several times per page; one query per object and request is enough.
        cache = request.__dict__.setdefault("_tracking_in_scope", {})
        key = (self.model._meta.label, obj.pk)
        if key not in cache:
            cache[key] = obj.pk is not None and self.model.objects.visible_to(request.user).filter(pk=obj.pk).exists()
        return cache[key]

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and (obj is None or self.in_scope(request, obj))

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (obj is None or self.in_scope(request, obj))

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (obj is None or self.in_scope(request, obj))

    def get_object(self, request, object_id, from_field=None):
        # Out of scope and nonexistent look the same: 404, rather than the
        # admin's redirect that would tell the two apart.
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(_("对象不存在或不在您的权限范围内"))
        return obj

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        return super().formfield_for_foreignkey(db_field, request, **scoped_choices(db_field, request, kwargs))


def scoped_choices(db_field, request, kwargs):
    related = db_field.related_model
    if "queryset" not in kwargs and hasattr(related.objects, "visible_to"):
        kwargs["queryset"] = related.objects.visible_to(request.user)
        if related is Item:
            kwargs["queryset"] = kwargs["queryset"].select_related("programme__region")
    return kwargs


class ScopedHistoryAdmin(ScopedMixin, SimpleHistoryAdmin):
    """History pages scoped like the rest; old versions can be read, never restored.

    Restoring a version would write a report past the workflow services (an
    approved report could become a draft again), so it is switched off here
    and the POST that would do it is refused.
    """

    def revert_disabled(self, request, obj=None):
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method != "GET":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


class ScopedInlineMixin:
    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        return super().formfield_for_foreignkey(db_field, request, **scoped_choices(db_field, request, kwargs))


# --- Filters ----------------------------------------------------------------------------


def scope_choices(request):
    """The regions the user sees, and the years of their programmes: the region and year filters' choices.

    One query for both, remembered for the request: every changelist shows
    both filters, and a query each would be two of the page's few.
    """
    memo = request.__dict__.setdefault("_tracking_scope_choices", {})
    if not memo:
        rows = (
            Region.objects.visible_to(request.user)
            .order_by("code", "programmes__year")
            .values_list("code", "name", "level", "programmes__year")
            .distinct()
        )
        regions, years = {}, set()
        for code, name, level, year in rows:
            regions[code] = ("　" if level == Region.Level.DISTRICT else "") + name
            if year is not None:
                years.add(year)
        memo["regions"] = list(regions.items())
        memo["years"] = [(str(year), str(year)) for year in sorted(years, reverse=True)]
    return memo


class RegionFilter(admin.SimpleListFilter):
    title = gettext_lazy("地区")
    parameter_name = "region"
    path = "programme__region"

    def lookups(self, request, model_admin):
        return scope_choices(request)["regions"]

    def queryset(self, request, queryset):
        if self.value():
            # A city includes its districts.
            return queryset.filter(**{f"{self.path}__in": Region.objects.subtree(self.value())})
        return queryset


class YearFilter(admin.SimpleListFilter):
    title = gettext_lazy("年度")
    parameter_name = "year"
    path = "programme__year"

    def lookups(self, request, model_admin):
        return scope_choices(request)["years"]

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            return queryset.filter(**{self.path: int(self.value())})
        return queryset


class ChoicesFilter(admin.SimpleListFilter):
    """A filter over a fixed set of choices, on the field or annotation named by path."""

    # Not "choices": SimpleListFilter.choices() renders the links.
    options = None

    def lookups(self, request, model_admin):
        return self.options.choices

    def queryset(self, request, queryset):
        if self.value() in self.options.values:
            return queryset.filter(**{self.path: self.value()})
        return queryset


class KindFilter(ChoicesFilter):
    title = gettext_lazy("计划类型")
    parameter_name = "kind"
    path = "programme__kind"
    options = Programme.Kind


class CategoryFilter(ChoicesFilter):
    title = gettext_lazy("类别")
    parameter_name = "category"
    path = "item__category"
    options = Category


class TargetStatusFilter(ChoicesFilter):
    """Filters on the status annotated by with_progress(), not on a stored column."""

    title = gettext_lazy("进度状态")
    parameter_name = "status"
    path = "status"
    options = Target.Status


class ReportRegionFilter(RegionFilter):
    path = "target__programme__region"


class OwnYearFilter(YearFilter):
    """For programmes and targets, which have a year column of their own."""

    path = "year"


class ReportYearFilter(YearFilter):
    path = "target__year"


class ProgrammeRegionFilter(RegionFilter):
    path = "region"


class ProgrammeKindFilter(KindFilter):
    path = "kind"


class ItemRegionFilter(RegionFilter):
    path = "programme__region"


class ItemCategoryFilter(CategoryFilter):
    path = "category"


# --- Regions and memberships ----------------------------------------------------------


@admin.register(Region)
class RegionAdmin(ScopedMixin, admin.ModelAdmin):
    list_display = ["code", "name", "level", "parent", "union_name"]
    list_select_related = ["parent"]
    search_fields = ["code", "name", "union_name"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    """Read-only: accounts are granted with `manage.py grant`, which also sets the role's group."""

    list_display = ["user", "region", "role"]
    list_select_related = ["user", "region"]
    list_filter = ["role"]
    search_fields = ["user__username", "region__name"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- Programmes and items ---------------------------------------------------------------


class ItemInline(ScopedInlineMixin, admin.TabularInline):
    model = Item
    fields = ["number", "title", "category", "text"]
    extra = 0
    # Deleting an item here would cascade to its targets' approved reports
    # without the per-object delete checks the item's own delete page makes.
    can_delete = False

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "text":
            kwargs["widget"] = forms.Textarea(attrs={"rows": 2, "cols": 60})
        return super().formfield_for_dbfield(db_field, request, **kwargs)


def programme_figures():
    """Target count and average completion of a programme, as subqueries of one query."""
    targets = Target.objects.filter(programme=OuterRef("pk")).order_by().values("programme")
    # Only targets with a target value have a completion; one not started counts as 0 %.
    # values() comes after with_progress() so that only the programme is grouped on.
    measured = (
        Target.objects.filter(programme=OuterRef("pk"), target_value__isnull=False)
        .with_progress().order_by().values("programme")
    )
    return {
        "target_count": Coalesce(Subquery(targets.annotate(n=Count("pk")).values("n")[:1]), 0),
        # Each target counts at most 100 %, so one overshoot cannot hide another shortfall.
        "average_completion": Subquery(
            measured.annotate(a=Avg(Least(Coalesce("completion", Value(0.0)), Value(100.0)))).values("a")[:1],
            output_field=FloatField(),
        ),
        "average_expected": Subquery(
            measured.annotate(a=Avg("expected")).values("a")[:1], output_field=FloatField()
        ),
    }


@admin.register(Programme)
class ProgrammeAdmin(ScopedHistoryAdmin):
    list_display = ["title", "region", "kind", "period", "targets", "average", "template_links"]
    list_display_links = ["title"]
    list_select_related = ["region"]
    list_filter = [ProgrammeRegionFilter, OwnYearFilter, ProgrammeKindFilter]
    search_fields = ["title"]
    inlines = [ItemInline]
    fields = ["region", "kind", "year", "title", "period_start", "period_end", "description", "source_document"]

    class Media:
        css = STYLES

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(**programme_figures())

    @admin.display(description=gettext_lazy("期间"), ordering="period_start")
    def period(self, programme):
        return f"{programme.period_start} ~ {programme.period_end}"

    @admin.display(description=gettext_lazy("指标数"), ordering="target_count")
    def targets(self, programme):
        url = reverse("admin:tracking_target_changelist") + f"?programme__id__exact={programme.pk}"
        return format_html('<a href="{}">{}</a>', url, programme.target_count)

    @admin.display(description=gettext_lazy("平均完成率"), ordering="average_completion")
    def average(self, programme):
        if programme.average_completion is None:
            return "—"
        return completion_bar(programme.average_completion, programme.average_expected, None)

    @admin.display(description=gettext_lazy("导入模板"))
    def template_links(self, programme):
        url = reverse("admin:tracking_programme_template", args=[programme.pk])
        return format_html('<a href="{}?format=xlsx">Excel</a> · <a href="{}?format=csv">CSV</a>', url, url)

    def get_urls(self):
        return [
            path("extract/", self.admin_site.admin_view(lambda request: extract_view(self, request)),
                 name="tracking_programme_extract"),
            path("<path:object_id>/template/", self.admin_site.admin_view(self.template_view),
                 name="tracking_programme_template"),
        ] + super().get_urls()

    def template_view(self, request, object_id):
        programme = self.get_object(request, object_id)
        if not self.has_view_permission(request, programme):
            raise PermissionDenied
        dataset = programme_template(programme)
        name = f"template-{programme.region_id}-{programme.year}-{programme.kind}"
        return spreadsheet_response(dataset, request.GET.get("format"), name)


@admin.register(Item)
class ItemAdmin(ScopedHistoryAdmin):
    list_display = ["number", "title", "category", "programme"]
    list_display_links = ["title"]
    list_select_related = ["programme__region"]
    list_filter = [ItemRegionFilter, YearFilter, KindFilter, ItemCategoryFilter]
    search_fields = ["title", "text"]
    fields = ["programme", "number", "title", "category", "text"]

    def get_readonly_fields(self, request, obj=None):
        # Its targets keep their programme; moving the item would split them.
        return ["programme"] if obj is not None else []


# --- Targets ----------------------------------------------------------------------------


def can_add_reports(user, target):
    return user.has_perm("tracking.add_progressreport") and services.can_enter(user, target)


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
class TargetAdmin(ScopedHistoryAdmin):
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
            super().save_model(request, obj, form, change)

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
            if viewer is not None and report.is_editable and services.can_enter(viewer, target):
                workflow = reverse("admin:tracking_progressreport_workflow", args=[report.pk])
                action = format_html(
                    '<button type="submit" class="button" formaction="{}?next={}" formnovalidate '
                    'name="step" value="submit">{}</button>', workflow, next_url, _("提交审核"),
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
        return [
            path("dashboard/", self.admin_site.admin_view(self.dashboard_view), name="tracking_dashboard"),
        ] + super().get_urls()

    def dashboard_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {**self.admin_site.each_context(request), **dashboard(request.user), "title": _("进度看板")}
        return TemplateResponse(request, "admin/tracking/dashboard.html", context)


def refusals_as_messages(model_admin, request, view, *args):
    """Run an admin view; a service's refusal rolls back and comes back as a message."""
    try:
        return view(request, *args)
    except ServiceRefused as error:
        model_admin.message_user(request, str(error), messages.ERROR)
        return HttpResponseRedirect(request.get_full_path())


def dashboard(user):
    """The user's programmes of the current year (or the latest with data), in three queries."""
    today = timezone.localdate()
    visible = Programme.objects.visible_to(user)
    newest = visible.order_by("-year").values("year")
    # The year is found in the same query as its programmes.
    year = Coalesce(Subquery(newest.filter(year__lte=today.year)[:1]), Subquery(newest[:1]))
    programmes = list(visible.filter(year=year).select_related("region").order_by("region", "kind"))
    year = programmes[0].year if programmes else None
    items = Item.objects.filter(programme__in=programmes).order_by("programme", "number")
    targets = Target.objects.visible_to(user).filter(programme__in=programmes).with_progress()
    targets = list(targets.select_related("programme__region", "item").order_by("item__number", "code"))

    by_item = {}
    for target in targets:
        by_item.setdefault(target.item_id, []).append(target)
    by_programme = {}
    for item in items:
        item.target_list = by_item.get(item.pk, [])
        # Averaged like the programme list: capped at 100 %, not started as 0 %.
        measured = [t for t in item.target_list if t.target_value is not None]
        item.bar = completion_bar(
            average([min(t.completion or 0.0, 100.0) for t in measured]), average([t.expected for t in measured]),
            None,
        ) if measured else ""
        by_programme.setdefault(item.programme_id, []).append(item)
    for programme in programmes:
        programme.item_list = by_programme.get(programme.pk, [])

    counts = Counter(t.status for t in targets)
    stale_before = today - datetime.timedelta(days=STALE_AFTER_DAYS)
    attention = []
    for target in targets:
        # Only a running programme can be late with its reports.
        running = target.programme.period_start <= today <= target.programme.period_end
        silent = running and (target.last_reported_on is None or target.last_reported_on < stale_before)
        if target.status == Target.Status.BEHIND or silent:
            target.silent = silent
            attention.append(target)
    for target in targets:
        target.bar = target_bar(target)
        target.badge = status_badge(target.status)
        target.progress_text = f"{number(target.progress)} / {number(target.target_value)} {target.unit}"
    return {
        "year": year,
        "today": today,
        "programmes": programmes,
        "status_counts": [(value, label, counts.get(value, 0)) for value, label in Target.Status.choices],
        "attention": attention,
        "stale_days": STALE_AFTER_DAYS,
        "target_count": len(targets),
    }


def average(values):
    return sum(values) / len(values) if values else None


# --- Progress reports --------------------------------------------------------------------


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
        p = target.programme
        return f"{p.region.name} {p.year} {p.get_kind_display()} · {target.code} {target.name}"


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("文件"), help_text=gettext_lazy("CSV（UTF-8 或 GB18030 编码）或 Excel .xlsx，表头与模板一致")
    )


class ReturnForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("审核意见"), widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
                           max_length=2000)


ENTRY_FIELDS = ["target", "period_end", "value", "qualifier", "note", "evidence"]
REVIEW_FIELDS = ["status_badge", "created_by", "created_at", "reviewed_by", "reviewed_at", "review_note"]


@admin.register(ProgressReport)
class ProgressReportAdmin(ScopedHistoryAdmin):
    list_display = [
        "period_end", "region", "target_label", "value_display", "qualifier", "status_badge", "created_by",
        "reviewed_by", "reviewed_at", "evidence_link",
    ]
    list_display_links = ["period_end"]
    list_select_related = ["target__programme__region", "target__item", "created_by", "reviewed_by"]
    list_filter = ["status", ReportRegionFilter, ReportYearFilter]
    search_fields = ["target__name", "target__code", "note"]
    actions = ["submit_reports", "approve_reports", "return_reports"]
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

    # Permissions: scope first, then the workflow's own rules through services.

    def has_change_permission(self, request, obj=None):
        if not super().has_change_permission(request, obj):
            return False
        return obj is None or (obj.is_editable and services.can_enter(request.user, obj.target))

    def has_delete_permission(self, request, obj=None):
        if not super().has_delete_permission(request, obj):
            return False
        return obj is None or (obj.is_editable and services.can_enter(request.user, obj.target))

    def has_submit_permission(self, request):
        return can_submit_reports(request.user)

    def has_review_permission(self, request):
        return can_review_reports(request.user)

    def has_import_permission(self, request):
        return self.has_add_permission(request) and can_submit_reports(request.user)

    # Forms.

    def get_fieldsets(self, request, obj=None):
        entry = list(ENTRY_FIELDS)
        if obj is not None and not self.has_change_permission(request, obj):
            entry[entry.index("evidence")] = "evidence_link"
        if obj is not None and obj.source_quote:
            entry.append("source_quote")
        fieldsets = [(None, {"fields": entry})]
        if obj is not None:
            fieldsets.append((_("审核"), {"fields": REVIEW_FIELDS}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        # A report stays with its target: the services lock and check that one.
        moved = ["target"] if obj is not None else []
        return [*REVIEW_FIELDS, "evidence_link", "source_quote", *moved]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "target":
            queryset = Target.objects.visible_to(request.user).select_related("programme__region")
            return TargetChoiceField(queryset=queryset, label=db_field.verbose_name, required=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "evidence":
            kwargs["widget"] = EvidenceWidget
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
        context["can_save_and_submit"] = editable and can_submit_reports(user) and (
            obj is None or services.can_enter(user, obj.target)
        )
        if obj is not None:
            context["workflow_steps"] = workflow_steps(user, obj)
            context["workflow_url"] = reverse("admin:tracking_progressreport_workflow", args=[obj.pk])
        return super().render_change_form(request, context, add, change, form_url, obj)

    # List columns.

    @admin.display(description=gettext_lazy("地区"), ordering="target__programme__region")
    def region(self, report):
        return report.target.programme.region.name

    @admin.display(description=gettext_lazy("指标"), ordering="target")
    def target_label(self, report):
        t = report.target
        return f"{t.programme.year} · {t.item.number} · {t.code} {t.name}"

    @admin.display(description=gettext_lazy("数值"), ordering="value")
    def value_display(self, report):
        text = f"{number(report.value)} {report.target.unit}"
        if report.status == Status.SUBMITTED:
            return format_html('<span class="tt-pending" title="{}">{}（{}）</span>', _("待审核，尚未计入进度"),
                               text, _("待审"))
        if report.status != Status.APPROVED:
            return format_html('<span class="tt-uncounted" title="{}">{}</span>', _("未计入进度"), text)
        return text

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
        if not self.has_view_permission(request, report) or not report.evidence:
            raise Http404
        try:
            file = report.evidence.open("rb")
        except FileNotFoundError:
            raise Http404 from None
        name = os.path.basename(report.evidence.name)
        # Only the validated types are shown in the browser; anything else that
        # reached the storage some other way is downloaded, never rendered.
        inline = os.path.splitext(name)[1].lower().lstrip(".") in EVIDENCE_EXTENSIONS
        return FileResponse(file, filename=name, as_attachment=not inline)

    def workflow_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponse(status=405)
        report = self.get_object(request, object_id)
        if not self.has_view_permission(request, report):
            raise PermissionDenied
        step = request.POST.get("step")
        note = request.POST.get("note", "")
        steps = {
            "submit": (lambda: services.submit_report(user=request.user, report=report), _("已提交审核")),
            "approve": (lambda: services.approve_report(user=request.user, report=report, note=note), _("已审核通过")),
            "return": (lambda: services.return_report(user=request.user, report=report, note=note), _("已退回")),
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

    def import_view(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None)
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "title": _("导入进度填报")}
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            data = ContentFile(upload.read(), name=upload.name)
            try:
                rows = read_table(data)
                result = import_reports(user=request.user, rows=rows, dry_run=True)
            except ImportFileError as error:
                form.add_error("file", str(error))
            else:
                token = remember_upload(request, data) if result.ok else None
                return TemplateResponse(
                    request, "admin/tracking/progressreport/import_preview.html",
                    {**context, **preview_context(rows, result), "token": token, "title": _("导入预览（尚未写入）")},
                    # A refused file is a client error, also for scripts that post here.
                    status=200 if result.ok else 400,
                )
        programmes = Programme.objects.visible_to(request.user).select_related("region").order_by("-year", "region")
        context.update(form=form, programmes=programmes, columns=[aliases[0] for aliases in COLUMNS.values()])
        return TemplateResponse(
            request, "admin/tracking/progressreport/import.html", context, status=400 if form.errors else 200
        )

    def import_confirm_view(self, request):
        if not self.has_import_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:tracking_progressreport_import"))
        pending = request.session.get(IMPORT_SESSION_KEY)
        if not pending or pending.get("token") != request.POST.get("token"):
            self.message_user(request, _("导入已过期或已完成，请重新上传文件"), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:tracking_progressreport_import"))
        try:
            with default_storage.open(pending["path"], "rb") as stored:
                data = ContentFile(stored.read(), name=pending["name"])
        except FileNotFoundError:
            forget_upload(request)
            self.message_user(request, _("导入已过期或已完成，请重新上传文件"), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:tracking_progressreport_import"))
        try:
            rows = read_table(data)
            result = import_reports(user=request.user, rows=rows, dry_run=False)
        except ImportFileError as error:
            forget_upload(request)
            self.message_user(request, str(error), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:tracking_progressreport_import"))
        forget_upload(request)
        if not result.ok:
            # The data changed between the preview and the confirmation.
            context = {**self.admin_site.each_context(request), "opts": self.model._meta,
                       **preview_context(rows, result), "title": _("导入未完成")}
            return TemplateResponse(request, "admin/tracking/progressreport/import_preview.html", context, status=400)
        self.message_user(
            request,
            _("导入完成：新增 %(created)d 条，更新 %(updated)d 条，未变 %(unchanged)d 条（均为草稿，请提交审核）")
            % {"created": result.created, "updated": result.updated, "unchanged": result.unchanged},
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:tracking_progressreport_changelist"))


def workflow_steps(user, report):
    """Which workflow buttons to offer; the services decide again when one is pressed."""
    target = report.target
    steps = []
    if report.is_editable and services.can_enter(user, target):
        steps.append("submit")
    if services.can_review(user, target):
        if report.status == Status.SUBMITTED or (user.is_superuser and report.is_editable):
            steps.append("approve")
        if report.status in (Status.SUBMITTED, Status.APPROVED):
            steps.append("return")
    return steps


def remember_upload(request, data):
    """Keep a previewed file until it is confirmed; only this session can name it."""
    forget_upload(request)
    extension = os.path.splitext(data.name)[1].lower()[:8]
    token = uuid.uuid4().hex
    data.seek(0)
    saved = default_storage.save(f"imports/{token}{extension}", data)
    request.session[IMPORT_SESSION_KEY] = {"token": token, "path": saved, "name": data.name}
    return token


def forget_upload(request):
    pending = request.session.pop(IMPORT_SESSION_KEY, None)
    if pending:
        default_storage.delete(pending["path"])


def preview_context(rows, result):
    headers = {column: aliases[0] for column, aliases in COLUMNS.items()}
    errors = [(e.row, headers.get(e.field, e.field or "—"), e.message) for e in result.errors]
    table = [[row.get(column, "") for column in COLUMNS] for row in rows[:IMPORT_PREVIEW_ROWS]]
    return {
        "result": result,
        "errors": errors,
        "headers": list(headers.values()),
        "rows": [(index + 2, cells) for index, cells in enumerate(table)],
        "row_count": len(rows),
        "rows_truncated": len(rows) > IMPORT_PREVIEW_ROWS,
    }


def spreadsheet_response(dataset, fmt, name):
    if fmt == "csv":
        # The BOM makes Excel read the file as UTF-8 instead of the local code page.
        content = ("\ufeff" + CSV().export_data(dataset)).encode("utf-8")
        content_type, extension = "text/csv; charset=utf-8", "csv"
    elif fmt in (None, "", "xlsx"):
        content = XLSX().export_data(dataset)
        content_type, extension = XLSX().get_content_type(), "xlsx"
    else:
        raise Http404
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}.{extension}"'
    return response
