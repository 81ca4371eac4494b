"""The targets page written the straightforward way, as a yardstick.

A plain ModelSerializer whose SerializerMethodFields compute each row's
progress from its reports: what the page would look like without
with_progress() and the stored totals. It answers the same JSON fields as
/api/v1/targets/ and is mounted only by the benchmark (benchmarks/urls.py).
"""

import datetime

from django.conf import settings
from django.db.models import Count, Sum
from django.utils import timezone
from rest_framework import generics, serializers

from tracking.api.base import ReadPolicy
from tracking.api.pagination import PageNumber
from tracking.models import ProgressReport, Target

APPROVED, SUBMITTED = ProgressReport.Status.APPROVED, ProgressReport.Status.SUBMITTED


class PeerTargetSerializer(serializers.ModelSerializer):
    region = serializers.CharField(source="programme.region_id", read_only=True)
    item_number = serializers.IntegerField(source="item.number", read_only=True)
    item_title = serializers.CharField(source="item.title", read_only=True)
    category = serializers.CharField(source="item.category", read_only=True)
    progress = serializers.SerializerMethodField()
    completion = serializers.SerializerMethodField()
    expected = serializers.SerializerMethodField()
    status = serializers.SerializerMethodField()
    last_reported_on = serializers.SerializerMethodField()
    pending_value = serializers.SerializerMethodField()
    pending_count = serializers.SerializerMethodField()

    class Meta:
        model = Target
        fields = [
            "id", "programme", "region", "item_number", "item_title", "category", "code", "name", "unit",
            "measure", "aggregation", "target_value", "due_date", "progress", "completion", "expected",
            "status", "last_reported_on", "pending_value", "pending_count", "updated_at",
        ]

    def get_progress(self, target):
        approved = target.reports.filter(status=APPROVED)
        if target.aggregation == Target.Aggregation.SUM:
            return approved.aggregate(total=Sum("value"))["total"]
        latest = approved.order_by("-period_end").first()
        return latest.value if latest else None

    def get_completion(self, target):
        progress = self.get_progress(target)
        if progress is None or not target.target_value:
            return None
        return float(progress) * 100.0 / float(target.target_value)

    def get_expected(self, target):
        start = target.programme.period_start
        span = max((target.due_date - start).days + 1, 1)
        elapsed = (timezone.localdate() - start).days + 1
        return min(max(elapsed * 100.0 / span, 0.0), 100.0)

    def get_status(self, target):
        progress = self.get_progress(target)
        if progress is not None and target.target_value is None:
            return Target.Status.REPORTED
        completion = self.get_completion(target) or 0.0
        if completion >= 100:
            return Target.Status.ACHIEVED
        if target.due_date < timezone.localdate():
            return Target.Status.OVERDUE
        if completion < self.get_expected(target) - settings.TRACKING_BEHIND_TOLERANCE:
            return Target.Status.BEHIND
        if progress is None:
            return Target.Status.NOT_STARTED
        return Target.Status.ON_TRACK

    def get_last_reported_on(self, target):
        latest = target.reports.filter(status=APPROVED).order_by("-period_end").first()
        return latest.period_end.isoformat() if isinstance(latest and latest.period_end, datetime.date) else None

    def get_pending_value(self, target):
        return target.reports.filter(status=SUBMITTED).aggregate(total=Sum("value"))["total"] or 0

    def get_pending_count(self, target):
        return target.reports.filter(status=SUBMITTED).aggregate(n=Count("pk"))["n"]


class PeerTargetList(generics.ListAPIView):
    serializer_class = PeerTargetSerializer
    permission_classes = [ReadPolicy]
    pagination_class = PageNumber

    def get_queryset(self):
        queryset = Target.objects.visible_to(self.request.user).select_related("programme", "item")
        year = self.request.query_params.get("year")
        if year:
            queryset = queryset.filter(programme__year=int(year))
        return queryset.order_by("programme_id", "code_key")
