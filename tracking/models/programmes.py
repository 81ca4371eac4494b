"""Programmes (a region's plan, report or review for a period) and their numbered items."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from ..followup.calendar import FREQUENCY_CHOICES
from .base import Timestamped
from .regions import Region, sees_everything


class ProgrammeQuerySet(models.QuerySet):
    def get_by_natural_key(self, region, year, kind):
        return self.get(region=region, year=year, kind=kind)

    def visible_to(self, user):
        if sees_everything(user):
            return self.all()
        return self.filter(region__in=Region.objects.visible_to(user))


class Programme(Timestamped):
    class Kind(models.TextChoices):
        ANNUAL_PLAN = "annual_plan", _("年度计划")
        ANNUAL_REPORT = "annual_report", _("年度报告")
        REVIEW = "review", _("多年回顾")

    region = models.ForeignKey(Region, models.PROTECT, related_name="programmes", verbose_name=_("地区"))
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    title = models.CharField(_("标题"), max_length=200)
    description = models.TextField(_("说明"), blank=True)
    year = models.PositiveSmallIntegerField(_("年度"), help_text=_("所覆盖的最后一年"))
    period_start = models.DateField(_("起始日期"))
    period_end = models.DateField(_("截止日期"))
    source_document = models.CharField(_("来源文件"), max_length=100, blank=True)
    # The reporting calendar (tracking.followup.calendar): blank means the settings' default.
    reporting_frequency = models.CharField(
        _("填报频次"), max_length=12, blank=True, db_default="", choices=FREQUENCY_CHOICES,
        help_text=_("留空则按系统默认（TRACKING_REPORTING_FREQUENCY）"),
    )
    due_days = models.PositiveSmallIntegerField(
        _("报送期限（天）"), null=True, blank=True,
        help_text=_("每期结束后第几天前报送；留空则按系统默认（TRACKING_REPORTING_DUE_DAYS）"),
    )

    objects = ProgrammeQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("计划")
        verbose_name_plural = _("计划")
        ordering = ["region", "-year", "kind"]
        constraints = [
            # (region, year, kind) is the natural key used by imports and fixtures.
            models.UniqueConstraint(fields=["region", "year", "kind"], name="programme_unique_region_year_kind"),
            models.UniqueConstraint(
                fields=["region", "kind", "period_start", "period_end"], name="programme_unique_region_kind_period"
            ),
            models.CheckConstraint(condition=Q(period_start__lte=F("period_end")), name="programme_period_ordered"),
            # What Target's (programme, year, period_start) foreign key refers to on PostgreSQL (migration 0004).
            models.UniqueConstraint(fields=["id", "year", "period_start"], name="programme_unique_id_year_start"),
        ]
        indexes = [
            # targets/ and summary/ filter by year across all regions.
            models.Index(fields=["year", "kind"], name="programme_year_kind"),
        ]

    def __str__(self):
        return f"{self.region} {self.year} {self.get_kind_display()}"

    def natural_key(self):
        return (self.region_id, self.year, self.kind)

    natural_key.dependencies = ["tracking.region"]

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        # Targets carry copies of these two. PostgreSQL cascades them through
        # the (programme, year, period_start) foreign key; this does the same
        # on SQLite. (Their statuses move with the start: services.plans
        # recounts the tally.)
        self.targets.exclude(year=self.year, period_start=self.period_start).update(
            year=self.year, period_start=self.period_start
        )

    def clean(self):
        if self.period_start and self.period_end:
            if self.period_start > self.period_end:
                raise ValidationError({"period_end": _("截止日期不能早于起始日期")})
            if self.year and self.year != self.period_end.year:
                raise ValidationError({"year": _("年度应为截止日期所在的年份")})


class Category(models.TextChoices):
    POLITICAL = "political", _("思想政治引领")
    SKILLS = "skills", _("建功立业/技能/产改")
    RIGHTS = "rights", _("权益维护")
    SERVICES = "services", _("服务帮扶")
    CULTURE = "culture", _("文体")
    ORGANISATION = "organisation", _("组织建设")
    REFORM = "reform", _("改革创新")


class ItemQuerySet(models.QuerySet):
    def get_by_natural_key(self, region, year, kind, number):
        return self.get(programme__region=region, programme__year=year, programme__kind=kind, number=number)

    def visible_to(self, user):
        if sees_everything(user):
            return self.all()
        return self.filter(programme__region__in=Region.objects.visible_to(user))


class Item(Timestamped):
    programme = models.ForeignKey(Programme, models.CASCADE, related_name="items", verbose_name=_("计划"))
    number = models.PositiveSmallIntegerField(_("序号"))
    title = models.CharField(_("标题"), max_length=200)
    text = models.TextField(_("全文"), blank=True)
    category = models.CharField(_("类别"), max_length=20, choices=Category.choices)

    objects = ItemQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("事项")
        verbose_name_plural = _("事项")
        ordering = ["programme", "number"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "number"], name="item_unique_number_in_programme"),
        ]

    def __str__(self):
        return f"{self.number}. {self.title}"

    def unique_error_message(self, model_class, unique_check):
        # Instead of Django's "包含 计划 和 序号 的 事项 已经存在。"
        if model_class is Item and set(unique_check) == {"programme", "number"}:
            return ValidationError(_("该计划已有序号为 %(number)s 的事项") % {"number": self.number}, code="unique_together")
        return super().unique_error_message(model_class, unique_check)

    def natural_key(self):
        return (*self.programme.natural_key(), self.number)

    natural_key.dependencies = ["tracking.programme"]

