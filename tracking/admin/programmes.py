"""Programmes with their items, and items, each changed and deleted through tracking.services.plans."""

import functools

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy

from .. import selectors, services
from ..exports import programme_template, spreadsheet_response
from ..models import Item, Programme
from .display import completion_bar
from .completeness import completeness_view
from .extract import extract_view
from .filters import (
    ItemCategoryFilter, ItemRegionFilter, KindFilter, OwnYearFilter, ProgrammeKindFilter, ProgrammeRegionFilter, YearFilter,
)
from .scope import STYLES, DeletesThroughService, ScopedHistoryAdmin, ScopedInlineMixin


class ItemInline(ScopedInlineMixin, admin.TabularInline):
    model = Item
    fields = ["number", "title", "category", "text"]
    extra = 0
    # Deleting an item here would cascade to its targets' approved reports
    # without the per-object delete checks the item's own delete page makes.
    can_delete = False

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "text":
            kwargs["widget"] = forms.Textarea(attrs={"rows": 2, "cols": 40})
        return super().formfield_for_dbfield(db_field, request, **kwargs)


@admin.register(Programme)
class ProgrammeAdmin(DeletesThroughService, ScopedHistoryAdmin):
    list_display = ["title", "region", "kind", "period", "targets", "average", "template_links"]
    list_display_links = ["title"]
    list_select_related = ["region"]
    list_filter = [ProgrammeRegionFilter, OwnYearFilter, ProgrammeKindFilter]
    search_fields = ["title"]
    inlines = [ItemInline]
    fieldsets = [
        (None, {"fields": ["region", "kind", "year", "title", "period_start", "period_end"]}),
        # The reporting calendar (tracking.followup.calendar): blank takes the settings' default.
        (gettext_lazy("填报日历"), {"fields": ["reporting_frequency", "due_days"]}),
        # Where the plan came from and how it was extracted: for whoever checks the data, not the
        # clerk entering progress, so it stays folded below the plan.
        (gettext_lazy("来源与整理说明"), {"fields": ["description", "source_document"], "classes": ["collapse"]}),
    ]

    class Media:
        css = STYLES

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(**selectors.programme_figures())

    @admin.display(description=gettext_lazy("期间"), ordering="period_start")
    def period(self, programme):
        return f"{programme.period_start}～{programme.period_end}"

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

    def save_model(self, request, obj, form, change):
        services.save_programme(programme=obj)

    def delete_through_service(self, obj):
        services.delete_programme(programme=obj)

    def get_urls(self):
        return [
            path("extract/", self.admin_site.admin_view(functools.partial(extract_view, self)),
                 name="tracking_programme_extract"),
            path("completeness/", self.admin_site.admin_view(functools.partial(completeness_view, self)),
                 name="tracking_completeness"),
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
class ItemAdmin(DeletesThroughService, ScopedHistoryAdmin):
    list_display = ["number", "title", "category", "programme"]
    list_display_links = ["title"]
    list_select_related = ["programme__region"]
    list_filter = [ItemRegionFilter, YearFilter, KindFilter, ItemCategoryFilter]
    search_fields = ["title", "text"]
    fields = ["programme", "number", "title", "category", "text"]

    def get_readonly_fields(self, request, obj=None):
        # Its targets keep their programme; moving the item would split them.
        return ["programme"] if obj is not None else []

    def delete_through_service(self, obj):
        services.delete_item(item=obj)
