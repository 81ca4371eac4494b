"""Paging: page numbers with a strict page_size, ids-first deep pages of targets, a cursor for reports."""

from django.core.paginator import Paginator as DjangoPaginator
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination, PageNumberPagination

from .params import parse_param


PAGE_FIELD_HELP = {
    "count": "符合条件的总条数",
    "next": "下一页的完整 URL；没有时为 null",
    "previous": "上一页的完整 URL；没有时为 null",
    "results": "本页的数据",
}


def describe_page(schema):
    for name, field in schema["properties"].items():
        field.setdefault("description", PAGE_FIELD_HELP[name])
    return schema


class StrictPageSize:
    """page_size=abc is a 400; DRF would silently fall back to the default."""

    def get_page_size(self, request):
        if self.page_size_query_param in request.query_params:
            field = serializers.IntegerField(min_value=1)
            return min(parse_param(request, self.page_size_query_param, field, allow_empty=False), self.max_page_size)
        return self.page_size


class PageNumber(StrictPageSize, PageNumberPagination):
    page_size_query_param = "page_size"
    # The schema says page is an integer: ?page=last is no page (404), as ?page=abc is.
    last_page_strings = ()
    page_size_query_description = _("每页条数，默认 50，最多 1000")
    max_page_size = 1000

    def get_paginated_response_schema(self, schema):
        return describe_page(super().get_paginated_response_schema(schema))

    def get_page_number(self, request, paginator):
        # ?page= (empty) is a client's mistake, as every other empty parameter is; DRF reads it as page 1.
        if request.query_params.get(self.page_query_param) == "":
            raise ValidationError({self.page_query_param: [_("参数不能为空；不需要时请省略")]})
        return super().get_page_number(request, paginator)


class IdsFirstPaginator(DjangoPaginator):
    """Counts and finds a page's ids on the bare, ordered queryset, then fetches those rows with their joins.

    A deep page (OFFSET 50000) then skips index entries, not joined and
    annotated rows. rows() turns the page's queryset into the values() rows
    that are serialized (they include "id"), so the count and the ids stay
    free of the joins that values() adds.
    """

    # Below this offset one query with the joins is cheaper than two.
    deep = 1000

    def __init__(self, object_list, per_page, *, rows, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.rows = rows

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        if bottom < self.deep:
            return self._get_page(list(self.rows(self.object_list[bottom:top])), number, self)
        ids = list(self.object_list.values_list("pk", flat=True)[bottom:top])
        fetched = {row["id"]: row for row in self.rows(self.object_list.filter(pk__any=ids).order_by())}
        return self._get_page([fetched[pk] for pk in ids], number, self)


class ReportCursor(StrictPageSize, CursorPagination):
    # The primary key only grows and is unique, so a cursor never skips or
    # repeats a report while others are added, and every page is a range scan
    # of the primary-key index however deep it is.
    ordering = "-id"
    page_size_query_param = "page_size"
    page_size_query_description = _("每页条数，默认 50，最多 1000")
    max_page_size = 1000
    invalid_cursor_message = _("游标无效：请使用上一页或下一页链接中的 cursor")

    def get_paginated_response_schema(self, schema):
        return describe_page(super().get_paginated_response_schema(schema))

    def decode_cursor(self, request):
        # ?cursor= (empty) is a client's mistake, as every other empty parameter is; DRF reads it as no cursor.
        if request.query_params.get(self.cursor_query_param) == "":
            raise ValidationError({self.cursor_query_param: [_("参数不能为空；不需要时请省略")]})
        # DRF checks the cursor's base64 and offset but not its position, which
        # is compared with the id: p=abc, p=1.5 or a NUL would reach the database.
        cursor = super().decode_cursor(request)
        if cursor is not None and cursor.position is not None:
            position = cursor.position
            if not (position.isascii() and position.isdigit() and len(position) <= 18):
                raise NotFound(self.invalid_cursor_message)
        return cursor
