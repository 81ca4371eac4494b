"""programmes/: a region's programmes; the detail nests items and targets with progress."""

from types import SimpleNamespace

from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.response import Response

from ..followup import calendar
from ..models import Item, Programme, Target
from .base import ApiViewSet, visible
from .filters import ProgrammeFilter
from .params import AS_OF, parse_param
from .serializers import ItemSerializer, NestedTargetSerializer, ProgrammeDetailSerializer, ProgrammeSerializer
from .rows import row_paths, rows_data


@extend_schema_view(
    list=extend_schema(summary="计划列表"),
    retrieve=extend_schema(
        summary="计划详情：事项及其指标的进度", parameters=[AS_OF], responses=ProgrammeDetailSerializer
    ),
)
class ProgrammeViewSet(ApiViewSet):
    """A region's programme for a period; the detail nests its items and their targets with progress."""

    filterset_class = ProgrammeFilter

    def get_queryset(self):
        # Exactly the (region, year, kind) unique constraint's index, so deep pages need no sort.
        return visible(Programme, self.request).order_by("region_id", "year", "kind")

    def retrieve(self, request, *args, **kwargs):
        as_of = parse_param(request, "as_of", serializers.DateField())
        return self.conditional(lambda: Response(self.with_targets(self.get_lookup_queryset(), as_of)))

    def with_targets(self, queryset, as_of):
        """ProgrammeDetailSerializer's JSON, from values() rows (tracking.api.rows): no model instances,
        and none of DRF's per-request field building for three nested serializers."""
        programme = queryset.values(*row_paths(ProgrammeDetailSerializer)).first()
        if programme is None:
            raise Http404
        targets = (
            Target.objects.filter(programme=programme["id"]).with_progress(as_of=as_of).order_by("code_key", "pk")
            .values("item_id", *row_paths(NestedTargetSerializer))
        )
        by_item = {}
        for row in targets:
            by_item.setdefault(row["item_id"], []).append(row)
        items = Item.objects.filter(programme=programme["id"]).order_by("number").values(*row_paths(ItemSerializer))
        programme["items"] = [{**item, "targets": by_item.get(item["id"], [])} for item in items]
        programme["periods"] = [
            {"key": p.key, "label": str(p.label), "start": p.start, "end": p.end, "due": p.due}
            for p in calendar.programme_periods(SimpleNamespace(**programme))
        ]
        [data] = rows_data(ProgrammeDetailSerializer, [programme])
        return data

    def get_serializer_class(self):
        return ProgrammeDetailSerializer if self.action == "retrieve" else ProgrammeSerializer

    @property
    def etag_depends_on_today(self):
        return self.action == "retrieve"
