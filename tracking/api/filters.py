"""Query-string filters of the API.

Every filter is declared here explicitly, each with a help text for the
schema. A value that does not parse (year=abc, an unknown region code, a bad
date) is a 400 with the field's message, never an empty list.
"""

import django_filters
from django import forms
from django.core.validators import MaxValueValidator
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.django_filters import DjangoFilterExtension

from ..models import Category, Programme, ProgressReport, Region, Target


# Within a 64-bit column's range: SQLite cannot even bind a larger number
# (OverflowError, a 500); out of range is a 400 instead.
BIGINT = {"minimum": -(2**63), "maximum": 2**63 - 1}
# django-filter's own bound on a number filter.
FLOAT = {"minimum": -1e50, "maximum": 1e50}


class IntegerFilter(django_filters.NumberFilter):
    # NumberFilter would accept 2024.5 as a year.
    field_class = forms.IntegerField
    schema_bounds = BIGINT

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", BIGINT["minimum"])
        kwargs.setdefault("max_value", BIGINT["maximum"])
        super().__init__(*args, **kwargs)


class FloatFilter(django_filters.NumberFilter):
    # Completion is a float annotation; comparing it with a float parameter
    # avoids a numeric/double cast on PostgreSQL.
    field_class = forms.FloatField
    schema_bounds = FLOAT

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", FLOAT["minimum"])
        super().__init__(*args, **kwargs)

    def get_max_validator(self):
        return MaxValueValidator(FLOAT["maximum"])


class FilterBoundsInSchema(DjangoFilterExtension):
    """drf-spectacular's description of the filters, with the bounds a number filter enforces (schema_bounds)."""

    priority = 1

    def resolve_filter_field(self, auto_schema, model, filterset_class, field_name, filter_field):
        parameters = super().resolve_filter_field(auto_schema, model, filterset_class, field_name, filter_field)
        for parameter in parameters:
            parameter["schema"].update(getattr(filter_field, "schema_bounds", {}))
        return parameters


class RegionSubtreeFilter(django_filters.ModelChoiceFilter):
    """A region code, matching that region and every region under it.

    An unknown code is a 400 rather than an empty list; validating it costs one
    small query. Any existing code is accepted (the codes are public): the
    rows are already limited to what the user may see, so a Tongzhou user
    asking for Nantong gets Tongzhou's.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("queryset", Region.objects.all())
        kwargs.setdefault("to_field_name", "code")
        super().__init__(*args, **kwargs)

    def filter(self, queryset, value):
        if not value:
            return queryset
        return queryset.filter(**{f"{self.field_name}__in": Region.objects.subtree(value.code)})


class StrictFilterSet(django_filters.FilterSet):
    """A filter given without a value is a 400: ?year= is a client's mistake, not "any year"."""

    # (FilterSet class, language) → its Form class.
    form_classes = {}

    def get_form_class(self):
        # django-filter builds a new Form class (a metaclass run over every
        # field) for each request: half the cost of filtering a list. The
        # fields depend only on the filters declared, and their labels on the language.
        key = (type(self), translation.get_language())
        if key not in self.form_classes:
            self.form_classes[key] = super().get_form_class()
        return self.form_classes[key]

    def is_valid(self):
        valid = super().is_valid()
        for name in self.filters:
            if self.data.get(name) == "":
                self.form.add_error(name, _("参数不能为空；不需要时请省略"))
                valid = False
        return valid


class RegionFilter(StrictFilterSet):
    level = django_filters.ChoiceFilter(choices=Region.Level.choices, help_text=_("级别"))
    parent = django_filters.CharFilter(field_name="parent", help_text=_("上级地区的行政区划代码"))

    class Meta:
        model = Region
        fields = []


class ProgrammeFilter(StrictFilterSet):
    region = RegionSubtreeFilter(
        field_name="region", help_text=_("行政区划代码；包含其下级地区，例如 320600 返回南通市各区的计划")
    )
    year = IntegerFilter(field_name="year", help_text=_("年度（计划所覆盖的最后一年）"))
    kind = django_filters.ChoiceFilter(choices=Programme.Kind.choices, help_text=_("计划类型"))

    class Meta:
        model = Programme
        fields = []


class TargetFilter(StrictFilterSet):
    region = RegionSubtreeFilter(field_name="programme__region", help_text=_("行政区划代码；包含其下级地区"))
    year = IntegerFilter(field_name="year", help_text=_("计划年度"))
    programme = IntegerFilter(field_name="programme", help_text=_("计划 id"))
    item = IntegerFilter(field_name="item", help_text=_("事项 id"))
    category = django_filters.ChoiceFilter(
        field_name="item__category", choices=Category.choices, help_text=_("事项类别")
    )
    status = django_filters.ChoiceFilter(choices=Target.Status.choices, help_text=_("进度状态（按 as_of 日期计算）"))
    measure = django_filters.ChoiceFilter(choices=Target.Measure.choices, help_text=_("计量方式"))
    completion_min = FloatFilter(
        field_name="completion", lookup_expr="gte", help_text=_("完成率下限（百分比，含）；没有目标值的指标不会匹配")
    )
    completion_max = FloatFilter(
        field_name="completion", lookup_expr="lte", help_text=_("完成率上限（百分比，含）；没有目标值的指标不会匹配")
    )
    updated_since = django_filters.IsoDateTimeFilter(
        field_name="updated_at",
        lookup_expr="gte",
        help_text=_("只返回此时间（ISO 8601）之后有变动的指标，包括进度变动"),
    )

    class Meta:
        model = Target
        fields = []


class ProgressReportFilter(StrictFilterSet):
    target = IntegerFilter(field_name="target", help_text=_("指标 id"))
    region = RegionSubtreeFilter(field_name="target__programme__region", help_text=_("行政区划代码；包含其下级地区"))
    status = django_filters.ChoiceFilter(choices=ProgressReport.Status.choices, help_text=_("审核状态"))
    period_end_after = django_filters.DateFilter(
        field_name="period_end", lookup_expr="gte", help_text=_("截至日期不早于（含），YYYY-MM-DD")
    )
    period_end_before = django_filters.DateFilter(
        field_name="period_end", lookup_expr="lte", help_text=_("截至日期不晚于（含），YYYY-MM-DD")
    )

    class Meta:
        model = ProgressReport
        fields = []
