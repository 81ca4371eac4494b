"""What every viewset shares: scope, the read policy, strict ordering, and list/retrieve with conditional GET."""

import re

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, filters, viewsets
from rest_framework.permissions import BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from .conditional import ConditionalGetMixin
from .pagination import PageNumber


def visible(model, request):
    """What this request may read: the one scoping rule."""
    return model.objects.visible_to(request.user)


class ReadPolicy(BasePermission):
    """Everything here needs a user.

    Anonymous clients read the public shape only, under /api/v1/public/
    (tracking/api/public.py), when TRACKING_PUBLIC_READ publishes it: never
    these endpoints' drafts, pending values, notes or usernames. Roles and
    regions are not checked here: the querysets (visible_to) and the services
    (tracking.workflow, tracking.access) do that.
    """

    def has_permission(self, request, view):
        return request.user.is_authenticated


class NamedFormatOnly:
    """?format= (empty) is a 404, as ?format=xml is: it names no format this view has.

    DRF would fall back to JSON, accepting a parameter the schema's enum
    forbids. Every API view with a ?format= mixes this in.
    """

    def perform_content_negotiation(self, request, force=False):
        if not force and request.query_params.get("format") == "":
            choices = ", ".join(r.format for r in self.get_renderers() if r.format != "api")
            raise exceptions.NotFound(
                _("format 参数不能为空；可选 %(choices)s，不需要时请省略") % {"choices": choices}
            )
        return super().perform_content_negotiation(request, force)


class StrictSearch(filters.SearchFilter):
    """?search= (empty) is a 400 as every other empty parameter is; DRF would read it as no search."""

    def get_search_terms(self, request):
        if request.query_params.get(self.search_param) == "":
            raise exceptions.ValidationError({self.search_param: [_("参数不能为空；不需要时请省略")]})
        return super().get_search_terms(request)


class StrictOrdering(filters.OrderingFilter):
    """?ordering= on the listed fields only (anything else is a 400), nulls last, then id.

    The id tie-break keeps page boundaries stable when many rows share a value.
    """

    def get_ordering(self, request, queryset, view):
        param = request.query_params.get(self.ordering_param)
        if param is None:
            return self.get_default_ordering(view)
        if param == "":
            raise exceptions.ValidationError({self.ordering_param: [_("参数不能为空；不需要时请省略")]})
        # An empty part (?ordering=name,) is refused too, as the schema's pattern says.
        fields = [part.strip() for part in param.split(",")]
        unknown = [name for name in fields if name.removeprefix("-") not in view.ordering_fields]
        if unknown:
            choices = ", ".join(view.ordering_fields)
            raise exceptions.ValidationError(
                {self.ordering_param: [_("不能按“%(field)s”排序，可选：%(choices)s") % {"field": unknown[0], "choices": choices}]}
            )
        return fields

    def get_schema_operation_parameters(self, view):
        """The parameter with a pattern of exactly what get_ordering() accepts: known fields, comma-separated."""
        parameters = super().get_schema_operation_parameters(view)
        field = "-?(?:" + "|".join(re.escape(name) for name in view.ordering_fields) + ")"
        for parameter in parameters:
            parameter["schema"]["pattern"] = rf"^\s*{field}\s*(?:,\s*{field}\s*)*$"
        return parameters

    def filter_queryset(self, request, queryset, view):
        ordering = self.get_ordering(request, queryset, view)
        if self.ordering_param in request.query_params:
            sources = getattr(view, "ordering_sources", {})
            ordering = [
                F(sources.get(name.removeprefix("-"), name.removeprefix("-"))).desc(nulls_last=True)
                if name.startswith("-")
                else F(sources.get(name, name)).asc(nulls_last=True)
                for name in ordering
            ]
        return queryset.order_by(*ordering, "pk")


class ApiViewSet(NamedFormatOnly, ConditionalGetMixin, viewsets.GenericViewSet):
    """list and retrieve with conditional GET, unpaginated CSV, and JSON errors whatever the format."""

    permission_classes = [ReadPolicy]
    pagination_class = PageNumber
    csv_exclude = []

    def get_lookup_queryset(self):
        queryset = self.filter_queryset(self.get_queryset())
        lookup = self.kwargs[self.lookup_url_kwarg or self.lookup_field]
        try:
            return queryset.filter(**{self.lookup_field: lookup})
        except (TypeError, ValueError, DjangoValidationError):
            # /targets/abc/ is a missing target, not a server error.
            raise Http404 from None

    def get_object(self):
        return get_object_or_404(self.get_lookup_queryset())

    def get_renderers(self):
        # CSV is a download of what GET returns; writes and other actions answer in JSON only.
        renderers = super().get_renderers()
        # (No action: a method the view lacks, answered 405 whatever the format.)
        if self.action not in ("list", "retrieve", None):
            renderers = [r for r in renderers if r.format != "csv"]
        return renderers

    def paginate_queryset(self, queryset):
        # A CSV download is for a spreadsheet, which wants every row in one file.
        if self.request.accepted_renderer.format == "csv":
            return None
        return super().paginate_queryset(queryset)

    def list(self, request, *args, **kwargs):
        # The ETag covers the whole query string, so a client holding one was
        # answered for these parameters before: the filters need not be built
        # again to tell it nothing changed.
        return self.conditional(lambda: self.list_response(self.filter_queryset(self.get_queryset())))

    def list_response(self, queryset):
        page = self.paginate_queryset(queryset)
        if page is not None:
            return self.get_paginated_response(self.get_serializer(page, many=True).data)
        response = Response(self.get_serializer(queryset, many=True).data)
        if self.request.accepted_renderer.format == "csv":
            response["Content-Disposition"] = f'attachment; filename="{self.basename}.csv"'
        return response

    def retrieve(self, request, *args, **kwargs):
        return self.conditional(lambda: Response(self.get_serializer(self.get_object()).data))

    def finalize_response(self, request, response, *args, **kwargs):
        # Errors are JSON even when CSV was asked for, so a script can read them.
        if getattr(response, "exception", False) and getattr(request, "accepted_renderer", None):
            if request.accepted_renderer.format == "csv":
                request.accepted_renderer, request.accepted_media_type = JSONRenderer(), JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)
