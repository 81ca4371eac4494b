"""Targets: one measurable thing within an item, with the stored totals of its approved reports."""

import re
import unicodedata
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .base import VALUE_FIELD, Timestamped
from .programmes import Item, Programme
from .regions import Region, sees_everything


CODE_KEY_LENGTH = 64


def code_key(code):
    """A target code as text that sorts in natural order: 1.2 before 1.10 before 2.1 before 10.1.

    Each run of digits becomes its length in two digits, then its value
    without leading zeros ("1.10" → "01" "1" "02" "10"), so a shorter number
    sorts first; letters are kept, case-folded; separators and other signs
    are dropped. The key holds only digits and letters because PostgreSQL's
    usual collations (en_US and the like) skip punctuation when comparing,
    which would scramble any key that kept it; digits and letters compare
    the same under every collation that matters here. Codes that differ only
    in their separators ("1.1", "1-1") get one key; ties go by id.
    """
    key = []
    for digits, letters in re.findall(r"(\d+)|([^\W\d_]+)", unicodedata.normalize("NFKC", code)):
        if digits:
            number = str(int(digits))
            key.append(f"{len(number):02d}{number}")
        else:
            key.append(letters.casefold())
    return "".join(key)[:CODE_KEY_LENGTH]


class TargetQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        # save() is skipped here, so the sort key is filled as save() would.
        objs = list(objs)
        for target in objs:
            target.code_key = code_key(target.code)
        return super().bulk_create(objs, *args, **kwargs)

    def get_by_natural_key(self, region, year, kind, code):
        return self.get(programme__region=region, programme__year=year, programme__kind=kind, code=code)

    def visible_to(self, user):
        if sees_everything(user):
            return self.all()
        return self.filter(programme__region__in=Region.objects.visible_to(user))

    def with_progress(self, as_of=None):
        """Progress, completion, expected and status, as tracking.progress defines them."""
        # The rule sits above the models (it reads reports and targets), so it is imported when asked.
        from ..progress import with_progress

        return with_progress(self, as_of)


class Target(Timestamped):
    class Measure(models.TextChoices):
        COUNT = "count", _("数量")
        AMOUNT = "amount", _("金额")
        PERCENTAGE = "percentage", _("比例")
        MILESTONE = "milestone", _("里程碑")

    class Aggregation(models.TextChoices):
        SUM = "sum", _("累加（每次填报为增量）")
        LATEST = "latest", _("取最新（每次填报为累计值或比率）")

    class Status(models.TextChoices):
        NOT_STARTED = "not_started", _("未开始")
        ON_TRACK = "on_track", _("进行中")
        BEHIND = "behind", _("滞后")
        OVERDUE = "overdue", _("逾期")
        ACHIEVED = "achieved", _("已完成")
        REPORTED = "reported", _("已填报")

    # Kept alongside item so that target codes are unique per programme and
    # targets filter by programme without a join. No index of its own: the
    # unique (programme, code) constraint's index starts with it.
    programme = models.ForeignKey(
        Programme, models.CASCADE, related_name="targets", verbose_name=_("计划"), db_index=False
    )
    # The programme's year and start, copied so that the targets list needs
    # no join to its programmes: a year's targets are one range of the
    # (year, programme, code) index, and expected progress runs from
    # period_start, so counting a year's targets or reaching page 500 reads
    # that index alone. save() copies them; on PostgreSQL a foreign key on
    # (programme, year, period_start) refuses any other values and cascades
    # a programme's change.
    year = models.PositiveSmallIntegerField(_("年度"), editable=False)
    period_start = models.DateField(_("起始日期"), editable=False)
    item = models.ForeignKey(Item, models.CASCADE, related_name="targets", verbose_name=_("事项"))
    code = models.CharField(_("编号"), max_length=20, help_text=_("在计划内唯一，例如 4.1"))
    # code_key(code), kept by save() (and bulk_create, the fixtures and the
    # benchmark generator): lists sort by it so that 1.2 comes before 1.10.
    code_key = models.CharField(max_length=CODE_KEY_LENGTH, editable=False)
    name = models.CharField(_("指标名称"), max_length=200)
    unit = models.CharField(_("单位"), max_length=20)
    target_value = models.DecimalField(
        _("目标值"), **VALUE_FIELD, null=True, blank=True, help_text=_("仅有填报数据、未公布目标的指标留空")
    )
    measure = models.CharField(_("计量方式"), max_length=20, choices=Measure.choices, default=Measure.COUNT)
    aggregation = models.CharField(
        _("汇总方式"), max_length=10, choices=Aggregation.choices, default=Aggregation.SUM
    )
    due_date = models.DateField(_("完成期限"), blank=True, help_text=_("默认为计划截止日期"))

    # Totals of the approved reports, kept by tracking.totals.refresh() in the
    # same transaction as every report change. Read them through with_progress().
    cached_progress = models.DecimalField(**VALUE_FIELD, null=True, editable=False)
    cached_last_reported_on = models.DateField(null=True, editable=False)
    cached_pending_value = models.DecimalField(**VALUE_FIELD, default=Decimal("0"), editable=False)
    cached_pending_count = models.PositiveIntegerField(default=0, editable=False)
    cached_completion = models.FloatField(null=True, editable=False)

    objects = TargetQuerySet.as_manager()
    history = HistoricalRecords(
        excluded_fields=[
            "year",
            "period_start",
            "code_key",
            "cached_progress", "cached_last_reported_on", "cached_pending_value", "cached_pending_count",
            "cached_completion",
        ]
    )

    class Meta:
        verbose_name = _("指标")
        verbose_name_plural = _("指标")
        ordering = ["programme", "item__number", "code_key"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "code"], name="target_unique_code_in_programme"),
            models.CheckConstraint(
                condition=Q(target_value__isnull=True) | Q(target_value__gt=0), name="target_value_positive"
            ),
            models.CheckConstraint(condition=Q(cached_pending_value__gte=0), name="target_pending_non_negative"),
        ]
        indexes = [
            # targets/?year=…, the dashboards' list, in its default order (programme, code in
            # natural order). The id last, as the list's tie-break: the count and the ids of a
            # deep page come from the index alone.
            models.Index(fields=["year", "programme", "code_key", "id"], name="target_year_programme_key"),
            # Counting a year's targets, which every page of that list does: deduplicated,
            # this index is a few pages, a third of the time of counting in the one above.
            models.Index(fields=["year"], name="target_year"),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"

    def unique_error_message(self, model_class, unique_check):
        # Instead of Django's "包含 计划 和 编号 的 指标 已经存在。"
        if model_class is Target and set(unique_check) == {"programme", "code"}:
            return ValidationError(_("该计划已有编号为 %(code)s 的指标") % {"code": self.code}, code="unique_together")
        return super().unique_error_message(model_class, unique_check)

    def natural_key(self):
        return (*self.programme.natural_key(), self.code)

    natural_key.dependencies = ["tracking.item"]

    def clean(self):
        if self.item_id and self.programme_id and self.item.programme_id != self.programme_id:
            raise ValidationError({"item": _("事项不属于该计划")})
        if self.due_date and self.item_id and self.due_date < self.item.programme.period_start:
            raise ValidationError({"due_date": _("完成期限不能早于计划起始日期")})

    def save(self, *args, **kwargs):
        self.code_key = code_key(self.code)
        if kwargs.get("update_fields") is not None and "code" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "code_key"}
        # Copies of the programme's: see the year and period_start fields.
        if self.item_id and not self.programme_id:
            self.programme_id = self.item.programme_id
        if self.programme_id:
            self.year, self.period_start = self.programme.year, self.programme.period_start
            if self.due_date is None:
                self.due_date = self.programme.period_end
        super().save(*args, **kwargs)
