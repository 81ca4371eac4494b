"""summary/: counts per status, mean completion and reports awaiting review, per region, category or programme."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.response import Response

from .. import selectors
from .base import ReadPolicy, visible
from .conditional import ConditionalGetMixin
from ..models import Programme, Region
from .serializers import SummaryQuerySerializer, SummarySerializer


class SummaryView(ConditionalGetMixin, generics.GenericAPIView):
    """Counts per status, mean completion and reports awaiting review, per region, category or programme.

    group_by=region groups by the child of the requested region: region=320000
    gives one row per city, region=320600 one per district, and no region one
    per province. Targets of a programme attached to the requested region
    itself are grouped under that region. The ETag hashes the result, so a
    polling screen gets 304 when nothing changed.
    """

    serializer_class = SummarySerializer
    permission_classes = [ReadPolicy]
    pagination_class = None
    filter_backends = []
    action = "summary"

    @extend_schema(summary="统计汇总", parameters=[SummaryQuerySerializer], responses=SummarySerializer)
    def get(self, request, *args, **kwargs):
        params = SummaryQuerySerializer(data=request.query_params, context={"request": request})
        params.is_valid(raise_exception=True)
        query = params.validated_data
        as_of, region = query.get("as_of"), query.get("region")
        programmes = visible(Programme, request)
        if region is not None:
            programmes = programmes.filter(region__in=Region.objects.subtree(region.code))
        if query.get("kind"):
            programmes = programmes.filter(kind=query["kind"])
        # Without a year, the dashboard's: this year's, or the latest before it with programmes.
        year = query.get("year") or selectors.default_year(programmes, as_of or timezone.localdate())
        programmes = programmes.filter(year=year)
        data = selectors.summary(programmes, year=year, as_of=as_of, region=region, group_by=query["group_by"])
        return self.conditional_on_content(Response(SummarySerializer(data).data))
