"""regions/: the region tree by code."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.response import Response

from .base import ApiViewSet, visible
from ..models import Region
from .filters import RegionFilter
from .serializers import RegionSerializer


@extend_schema_view(
    list=extend_schema(summary="地区列表", description="当前用户可见的地区（自己地区及其下级）。"),
    retrieve=extend_schema(summary="地区详情"),
)
class RegionViewSet(ApiViewSet):
    """Regions: province, city and district trade unions, keyed by their 6-digit code."""

    serializer_class = RegionSerializer
    filterset_class = RegionFilter
    lookup_field = "code"

    def get_queryset(self):
        return visible(Region, self.request).order_by("code")

    # Regions carry no updated_at, so their ETag hashes the (small) data itself.
    def list(self, request, *args, **kwargs):
        return self.conditional_on_content(self.list_response(self.filter_queryset(self.get_queryset())))

    def retrieve(self, request, *args, **kwargs):
        return self.conditional_on_content(Response(self.get_serializer(self.get_object()).data))
