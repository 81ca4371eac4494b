"""The list filters of the admin's changelists, every choice within the user's scope."""

from django.contrib import admin
from django.utils.translation import gettext_lazy

from ..models import Category, Programme, Region, Target


def scope_choices(request):
    """The regions the user sees, and the years of their programmes: the region and year filters' choices
    (and the districts among the regions, for the target list's columns).

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
        regions, years, districts = {}, set(), set()
        for code, name, level, year in rows:
            regions[code] = ("　" if level == Region.Level.DISTRICT else "") + name
            if level == Region.Level.DISTRICT:
                districts.add(code)
            if year is not None:
                years.add(year)
        memo["regions"] = list(regions.items())
        # Regions without regions below them (the hierarchy ends at districts).
        memo["districts"] = districts
        memo["years"] = [(str(year), str(year)) for year in sorted(years, reverse=True)]
    return memo


def region_fixed(request):
    """Whether every row of a list is of one region: a district chosen in the 地区 filter, or a district's user."""
    choices = scope_choices(request)
    return request.GET.get(RegionFilter.parameter_name) in choices["districts"] or len(choices["regions"]) == 1


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
