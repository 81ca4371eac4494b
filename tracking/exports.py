"""Spreadsheet layouts: the report export and the per-programme import template.

Both start with the import's columns, headed with the first alias of each in
importing.COLUMNS, so that an exported or template file can be filled in and
imported back unchanged. Columns the importer does not know (名称, 单位, 状态…)
are there for the reader and are ignored on import.
"""

import unicodedata
from decimal import Decimal

import tablib
from django.http import Http404, HttpResponse
from django.utils import timezone
from import_export import fields, resources
from import_export.formats.base_formats import CSV, XLSX

from . import numbers
from .importing import COLUMNS
from .importing.cells import FORMULA_START, TEXT_MARK
from .models import ProgressReport, Target

HEADER = {column: aliases[0] for column, aliases in COLUMNS.items()}


# A spreadsheet keeps numbers as doubles: 15 significant digits are exact.
EXACT_DIGITS = 15


def plain_number(value):
    """A Decimal as Excel should see it: 12000 rather than 12000.0000 or 1.2E+4.

    A figure a double cannot hold (9999999999999999.9999 would become 1E+16,
    which the import then refuses as too large) is written as its exact text.
    """
    if value is None:
        return ""
    number = numbers.plain(value)
    if len(Decimal(number).as_tuple().digits) > EXACT_DIGITS:
        return format(Decimal(number), "f")
    return number


def excel_safe(text):
    """Text as a spreadsheet should show it, never run: the one rule for every exported text cell.

    A cell whose first visible character would start a formula (=, +, -, @, and
    their full-width forms such as ＝, which Excel also takes), or that starts with
    a tab or carriage return, or with the apostrophe itself, gets an apostrophe
    in front. The import (importing.cells.from_excel_text) takes it off again,
    so an export imports back as it was.
    """
    text = "" if text is None else str(text)
    first = unicodedata.normalize("NFKC", text.lstrip()[:1])
    if first[:1] in (*FORMULA_START, TEXT_MARK) or text[:1] in ("\t", "\r"):
        return TEXT_MARK + text
    return text


def excel_safe_dataset(dataset):
    """The dataset with excel_safe() applied to every text cell (numbers and dates stay as they are)."""
    safe = tablib.Dataset(headers=dataset.headers, title=dataset.title)
    for row in dataset:
        safe.append([excel_safe(cell) if isinstance(cell, str) else cell for cell in row])
    return safe


def _user(user):
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


class ProgressReportResource(resources.ModelResource):
    region = fields.Field(attribute="target__programme__region_id", column_name=HEADER["region"])
    region_name = fields.Field(attribute="target__programme__region__name", column_name="地区")
    year = fields.Field(attribute="target__programme__year", column_name=HEADER["year"])
    kind = fields.Field(column_name=HEADER["kind"])
    item = fields.Field(attribute="target__item__number", column_name=HEADER["item"])
    target = fields.Field(attribute="target__code", column_name=HEADER["target"])
    target_name = fields.Field(attribute="target__name", column_name="指标名称")
    unit = fields.Field(attribute="target__unit", column_name="单位")
    period_end = fields.Field(column_name=HEADER["period_end"])
    value = fields.Field(column_name=HEADER["value"])
    qualifier = fields.Field(column_name=HEADER["qualifier"])
    note = fields.Field(attribute="note", column_name=HEADER["note"])
    status = fields.Field(column_name="状态")
    created_by = fields.Field(column_name="填报人")
    reviewed_by = fields.Field(column_name="审核人")
    reviewed_at = fields.Field(column_name="审核时间")
    review_note = fields.Field(attribute="review_note", column_name="审核意见")

    class Meta:
        model = ProgressReport
        fields = (
            "region", "region_name", "year", "kind", "item", "target", "target_name", "unit",
            "period_end", "value", "qualifier", "note", "status", "created_by", "reviewed_by",
            "reviewed_at", "review_note",
        )
        export_order = fields

    def export(self, *args, **kwargs):
        # Every text cell (target name, unit, region and user names, notes), not only the notes.
        return excel_safe_dataset(super().export(*args, **kwargs))

    @staticmethod
    def export_queryset(queryset):
        # Every column above in the same query, whatever the number of rows.
        return queryset.select_related("target__programme__region", "target__item", "created_by", "reviewed_by")

    def dehydrate_kind(self, report):
        return str(report.target.programme.get_kind_display())

    def dehydrate_period_end(self, report):
        return report.period_end.isoformat()

    def dehydrate_value(self, report):
        return plain_number(report.value)

    def dehydrate_qualifier(self, report):
        return str(report.get_qualifier_display())

    def dehydrate_status(self, report):
        return str(report.get_status_display())

    def dehydrate_created_by(self, report):
        return _user(report.created_by)

    def dehydrate_reviewed_by(self, report):
        return _user(report.reviewed_by)

    def dehydrate_reviewed_at(self, report):
        if report.reviewed_at is None:
            return ""
        return timezone.localtime(report.reviewed_at).strftime("%Y-%m-%d %H:%M")


TEMPLATE_HEADERS = [
    HEADER["region"], HEADER["year"], HEADER["kind"], HEADER["item"], HEADER["target"],
    "指标名称", "单位", HEADER["period_end"], HEADER["value"], HEADER["qualifier"], HEADER["note"],
]


def programme_template(programme):
    """One blank row per target of the programme, in the import's column layout."""
    targets = Target.objects.filter(programme=programme).select_related("item").order_by("item__number", "code_key")
    dataset = tablib.Dataset(headers=TEMPLATE_HEADERS, title=f"{programme.year}")
    kind = str(programme.get_kind_display())
    for target in targets:
        dataset.append(
            [programme.region_id, programme.year, kind, target.item.number, target.code, target.name, target.unit,
             "", "", "", ""]
        )
    return excel_safe_dataset(dataset)


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
