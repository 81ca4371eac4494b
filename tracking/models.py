import datetime
import json
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import EmptyResultSet, ValidationError
from django.core.validators import FileExtensionValidator, MinValueValidator, RegexValidator
from django.db import models, transaction
from django.db.models import (
    Case, Count, Exists, F, FloatField, Func, IntegerField, Min, OuterRef, Q, Subquery, Sum, Value, When, Window,
)
from django.db.models.functions import Cast, Coalesce, Floor, Greatest, Least, Now
from django.db.models.signals import post_delete, post_save, pre_delete
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

VALUE_FIELD = {"max_digits": 20, "decimal_places": 4}
NON_NEGATIVE = [MinValueValidator(Decimal("0"), _("数值不能为负数"))]
EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
EVIDENCE_EXTENSIONS = ["pdf", "jpg", "jpeg", "png"]


class Timestamped(models.Model):
    """updated_at drives ETags and updated_since filters.

    It is a plain default rather than auto_now so that fixture loading, which
    bypasses save(), still fills it in.
    """

    # Indexed for updated_since filters and for the newest-change lookups behind ETags.
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now, editable=False, db_index=True)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self.updated_at = timezone.now()
        if "update_fields" in kwargs and kwargs["update_fields"] is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "updated_at"}
        super().save(*args, **kwargs)


# --- Regions -------------------------------------------------------------------


class RegionQuerySet(models.QuerySet):
    def get_by_natural_key(self, code):
        return self.get(code=code)

    def subtree(self, code):
        """The region and everything under it (the hierarchy is three levels deep)."""
        return self.filter(Q(code=code) | Q(parent=code) | Q(parent__parent=code))

    def visible_to(self, user):
        """The one scoping rule: the regions a user may see or change.

        A superuser sees everything; anyone else sees their membership region's
        subtree, and a user without a membership sees nothing. The admin, the
        API and the importer all start every queryset from here.
        """
        if not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self.all()
        membership = getattr(user, "membership", None)
        if membership is None:
            return self.none()
        return self.subtree(membership.region_id)


class Region(models.Model):
    class Level(models.TextChoices):
        PROVINCE = "province", _("省")
        CITY = "city", _("市")
        DISTRICT = "district", _("区/县")

    # The official administrative-division code is the key everywhere (URLs,
    # imports, fixtures), so it is the primary key rather than a side column.
    code = models.CharField(
        _("行政区划代码"),
        max_length=6,
        primary_key=True,
        validators=[RegexValidator(r"^\d{6}$", _("行政区划代码应为6位数字"))],
    )
    name = models.CharField(_("名称"), max_length=50)
    union_name = models.CharField(_("工会名称"), max_length=100)
    level = models.CharField(_("级别"), max_length=10, choices=Level.choices)
    parent = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("上级")
    )

    objects = RegionQuerySet.as_manager()

    class Meta:
        verbose_name = _("地区")
        verbose_name_plural = _("地区")
        ordering = ["code"]

    def __str__(self):
        return self.name

    # No natural_key(): the code already is the primary key, and a natural key
    # would make `dumpdata --natural-primary` drop it from the dump.


class Membership(models.Model):
    """Which region a user works for, and in which role."""

    class Role(models.TextChoices):
        REPORTER = "reporter", _("填报员")
        MANAGER = "manager", _("管理员")
        REVIEWER = "reviewer", _("审核员")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="membership", verbose_name=_("用户")
    )
    region = models.ForeignKey(Region, models.PROTECT, related_name="memberships", verbose_name=_("地区"))
    role = models.CharField(_("角色"), max_length=10, choices=Role.choices)

    class Meta:
        verbose_name = _("成员")
        verbose_name_plural = _("成员")

    def __str__(self):
        return f"{self.user} · {self.region} · {self.get_role_display()}"


def role_of(user):
    """The user's role, or None. Superusers act as every role at once."""
    membership = getattr(user, "membership", None) if user.is_authenticated else None
    return membership.role if membership else None


# --- Programmes, items, targets ------------------------------------------------


def sees_everything(user):
    """Superusers see every region; their querysets need no region filter.

    Filtering on "any region" would make the database match every row against
    the whole region table, which at national scale costs more than the rest
    of a typical query.
    """
    return user.is_authenticated and user.is_active and user.is_superuser


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
        # the (programme, year, period_start) foreign key; this covers SQLite.
        Target.objects.filter(programme=self).exclude(year=self.year, period_start=self.period_start).update(
            year=self.year, period_start=self.period_start
        )
        # A new start moves its targets' expected progress, and so their statuses.
        ProgrammeTally.recount([self.pk])

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

    def natural_key(self):
        return (*self.programme.natural_key(), self.number)

    natural_key.dependencies = ["tracking.programme"]


class DayNumber(Func):
    """A date as a day count (Python's date.toordinal()), so that the share of a
    period elapsed can be computed in SQL the same way on PostgreSQL and SQLite."""

    output_field = models.IntegerField()

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="(%(expressions)s - DATE '0001-01-01' + 1)", **extra)

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection, template="CAST(julianday(%(expressions)s) - 1721424.5 AS INTEGER)", **extra
        )


def _decimal_subquery(queryset, aggregate):
    """One aggregate over the rows of a correlated subquery, as a scalar."""
    return Subquery(
        queryset.order_by().values("target").annotate(result=aggregate).values("result")[:1],
        output_field=models.DecimalField(**VALUE_FIELD),
    )


# The figures progress_expressions() defines, each stored on Target as cached_<name>.
PROGRESS_FIGURES = ("progress", "last_reported_on", "pending_value", "pending_count", "completion")


def completion_of(progress, target_value="target_value"):
    """Progress as a percentage of the target value; None without a positive target value."""
    return Case(
        When(
            **{f"{target_value}__gt": 0},
            then=Cast(progress, FloatField()) * 100.0 / Cast(F(target_value), FloatField()),
        ),
        default=None,
        output_field=FloatField(),
    )


def progress_expressions(as_of=None):
    """Progress figures of a target, computed from its reports.

    This is the definition of progress. refresh_progress() stores its result
    for all approved reports; with_progress(as_of=…) evaluates it at a past date.
    """
    reports = ProgressReport.objects.filter(target=OuterRef("pk"))
    if as_of is not None:
        reports = reports.filter(period_end__lte=as_of)
    approved = reports.filter(status=ProgressReport.Status.APPROVED)
    submitted = reports.filter(status=ProgressReport.Status.SUBMITTED)
    latest = approved.order_by("-period_end")
    progress = Case(
        When(aggregation=Target.Aggregation.SUM, then=_decimal_subquery(approved, Sum("value"))),
        default=Subquery(latest.values("value")[:1]),
        output_field=models.DecimalField(**VALUE_FIELD),
    )
    return {
        "progress": progress,
        "last_reported_on": Subquery(latest.values("period_end")[:1]),
        "pending_value": Coalesce(_decimal_subquery(submitted, Sum("value")), Value(Decimal("0"))),
        "pending_count": Coalesce(
            Subquery(submitted.order_by().values("target").annotate(n=Count("pk")).values("n")[:1]), 0
        ),
        # Stored too, because converting decimals to floats for every target
        # and every status test was most of the cost of a national summary.
        "completion": completion_of(progress),
    }


@models.Field.register_lookup
class AnyOf(models.lookups.In):
    """`field__any=values`: `__in` for lists of any length, as one parameter.

    `__in` sends every value as a parameter of its own. PostgreSQL takes at
    most 65,535 in a statement whose parameters the server binds (settings:
    DB_PREPARED_STATEMENTS), SQLite 32,766 as usually built, and an import may
    name more targets than that. One array (PostgreSQL) or JSON list (SQLite)
    is also one prepared statement, whatever its length.
    """

    lookup_name = "any"

    def one_parameter(self, compiler, connection, template, encode):
        if not self.rhs_is_direct_value():
            return self.as_sql(compiler, connection)
        values = [value for value in self.rhs if value is not None]
        if not values:
            raise EmptyResultSet
        lhs, lhs_params = self.process_lhs(compiler, connection)
        field = self.lhs.output_field
        values = [field.get_db_prep_value(value, connection, prepared=True) for value in values]
        return template % lhs, (*lhs_params, encode(values))

    def as_postgresql(self, compiler, connection):
        return self.one_parameter(compiler, connection, "%s = ANY(%%s)", list)

    def as_sqlite(self, compiler, connection):
        # Dates and decimals are stored as text, which their JSON strings equal.
        return self.one_parameter(
            compiler, connection, "%s IN (SELECT value FROM json_each(%%s))", lambda values: json.dumps(values, default=str)
        )


# Foreign keys take only the lookups registered on them (raw key values only, not instances).
models.ForeignObject.register_lookup(AnyOf)


def lock(queryset):
    """Lock these rows (FOR UPDATE) in key order, and only these: a default ordering through
    related models would join them and lock their rows too (a programme, its region)."""
    return list(queryset.select_for_update(of=("self",)).order_by("pk").values_list("pk", flat=True))


def days_to_due():
    """The days from a target's start to its due date, both counted: what expected progress divides by."""
    return Greatest(DayNumber("due_date") - DayNumber("period_start") + 1, Value(1))


class TargetQuerySet(models.QuerySet):
    def get_by_natural_key(self, region, year, kind, code):
        return self.get(programme__region=region, programme__year=year, programme__kind=kind, code=code)

    def visible_to(self, user):
        if sees_everything(user):
            return self.all()
        return self.filter(programme__region__in=Region.objects.visible_to(user))

    def refresh_progress(self):
        """Recompute the stored totals of these targets from their reports, in one UPDATE.

        Called in the same transaction as every change to a report, so the
        stored figures can never disagree with the approved data.
        """
        figures = {f"cached_{name}": expr for name, expr in progress_expressions().items()}
        with transaction.atomic():
            updated = self.update(**figures, updated_at=Now())
            ProgrammeTally.recount(self.values_list("programme_id", flat=True).distinct())
        return updated

    def with_progress(self, as_of=None):
        """Annotate progress, completion, expected and status: the single source of truth.

        Without as_of, progress is what all approved reports add up to, read
        from the totals kept by refresh_progress(), and expected is for today.
        With as_of, everything is computed from reports dated on or before it.
        """
        if as_of is None:
            day = timezone.localdate()
            figures = {name: F(f"cached_{name}") for name in PROGRESS_FIGURES}
        else:
            day = as_of
            figures = progress_expressions(as_of)
        start, span = DayNumber("period_start"), days_to_due()
        elapsed = Value(day.toordinal()) - start + 1
        expected = Least(
            Greatest(Cast(elapsed, FloatField()) * 100.0 / Cast(span, FloatField()), Value(0.0)), Value(100.0)
        )
        tolerance = settings.TRACKING_BEHIND_TOLERANCE
        status = Case(
            When(progress__isnull=True, then=Value(Target.Status.NOT_STARTED)),
            When(target_value__isnull=True, then=Value(Target.Status.REPORTED)),
            When(completion__gte=100, then=Value(Target.Status.ACHIEVED)),
            When(completion__lt=F("expected") - tolerance, then=Value(Target.Status.BEHIND)),
            default=Value(Target.Status.ON_TRACK),
            output_field=models.CharField(),
        )
        return self.annotate(**figures).annotate(expected=expected).annotate(status=status)


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

    # Totals of the approved reports, maintained by refresh_progress() in the
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
            "cached_progress", "cached_last_reported_on", "cached_pending_value", "cached_pending_count",
            "cached_completion",
        ]
    )

    class Meta:
        verbose_name = _("指标")
        verbose_name_plural = _("指标")
        ordering = ["programme", "item__number", "code"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "code"], name="target_unique_code_in_programme"),
            models.CheckConstraint(
                condition=Q(target_value__isnull=True) | Q(target_value__gt=0), name="target_value_positive"
            ),
            models.CheckConstraint(condition=Q(cached_pending_value__gte=0), name="target_pending_non_negative"),
        ]
        indexes = [
            # targets/?year=…, the dashboards' list, in its default order (programme, code).
            # The id last, as the list's tie-break: the count and the ids of a
            # deep page come from the index alone.
            models.Index(fields=["year", "programme", "code", "id"], name="target_year_programme_code"),
            # Counting a year's targets, which every page of that list does: deduplicated,
            # this index is a few pages, a third of the time of counting in the one above.
            models.Index(fields=["year"], name="target_year"),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"

    def natural_key(self):
        return (*self.programme.natural_key(), self.code)

    natural_key.dependencies = ["tracking.item"]

    def progress_history(self):
        """Each approved report with the progress and completion it brings the target to, in date order.

        The same definition as progress_expressions(), evaluated after every report in one query.
        """
        reports = self.reports.filter(status=ProgressReport.Status.APPROVED).order_by("period_end")
        if self.aggregation == Target.Aggregation.SUM:
            progress = Window(Sum("value"), order_by=F("period_end").asc())
        else:
            progress = F("value")
        reports = reports.annotate(progress=progress)
        return reports.annotate(completion=completion_of(F("progress"), "target__target_value")).values(
            "period_end", "value", "progress", "completion"
        )

    def clean(self):
        if self.item_id and self.programme_id and self.item.programme_id != self.programme_id:
            raise ValidationError({"item": _("事项不属于该计划")})
        if self.due_date and self.item_id and self.due_date < self.item.programme.period_start:
            raise ValidationError({"due_date": _("完成期限不能早于计划起始日期")})

    @classmethod
    def from_db(cls, db, field_names, values):
        target = super().from_db(db, field_names, values)
        target._stored_programme_id = target.__dict__.get("programme_id")
        return target

    def save(self, *args, **kwargs):
        if self.item_id and not self.programme_id:
            self.programme_id = self.item.programme_id
        if self.programme_id:
            self.year, self.period_start = self.programme.year, self.programme.period_start
            if self.due_date is None:
                self.due_date = self.programme.period_end
        # Saving recounts the programme it is in now (post_save); one it left
        # would go on counting it. The admin does not move targets, scripts may.
        fields = kwargs.get("update_fields")
        saves_programme = fields is None or {"programme", "programme_id"} & set(fields)
        left = getattr(self, "_stored_programme_id", None)
        moved = saves_programme and left is not None and left != self.programme_id
        with transaction.atomic():
            if moved:
                # The order an approval locks in (target, then tally), and both
                # tallies in key order: two opposite moves could deadlock otherwise.
                lock(Target.objects.filter(pk=self.pk))
                lock(ProgrammeTally.objects.filter(pk__in=[left, self.programme_id]))
            super().save(*args, **kwargs)
            if moved:
                ProgrammeTally.recount([left])
        if saves_programme:
            self._stored_programme_id = self.programme_id


# --- Tallies: a programme's summary figures, kept for national summaries ----------


def tally_figures(targets):
    """Per programme of these targets: what a summary adds up, from with_progress() as of today.

    Statuses, except that an on-track target falls behind as the days pass, do
    not depend on the date. last_on_track is the last day on which no on-track
    target has fallen behind: expected progress, (day - start + 1) * 100 / span,
    passes completion + tolerance on day start + floor(x) with
    x = (completion + tolerance) * span / 100. x is taken a millionth smaller,
    so that where rounding could put it on either side of a whole number the
    tally expires a day early rather than a day late.
    """
    tolerance = settings.TRACKING_BEHIND_TOLERANCE
    x = (F("completion") + tolerance) * Cast(days_to_due(), FloatField()) / 100.0
    falls_behind = DayNumber("period_start") + Cast(Floor(x - 1e-6), IntegerField())
    with_value = Q(target_value__isnull=False)
    return {
        row.pop("programme_id"): row
        for row in targets.with_progress()
        .order_by()
        .values("programme_id")
        .annotate(
            targets=Count("pk"),
            **{status: Count("pk", filter=Q(status=status)) for status in Target.Status.values},
            # A target with a target value but no approved report is 0 % done, as in summary_groups().
            completion_sum=Coalesce(Sum(Coalesce("completion", Value(0.0)), filter=with_value), Value(0.0)),
            with_value=Count("pk", filter=with_value),
            pending_reports=Coalesce(Sum("pending_count"), 0),
            last_on_track=Min(
                falls_behind - 1, filter=Q(status=Target.Status.ON_TRACK, completion__lt=100 - tolerance)
            ),
        )
    }


class ProgrammeTallyQuerySet(models.QuerySet):
    def current(self, day=None):
        """The tallies whose figures hold on this day (today): counted that day, or before it with no
        on-track target due to fall behind since; and with today's tolerance."""
        day = day or timezone.localdate()
        return self.filter(
            Q(counted_on=day) | Q(Q(valid_until__isnull=True) | Q(valid_until__gte=day), counted_on__lt=day),
            tolerance=settings.TRACKING_BEHIND_TOLERANCE,
        )

    def catch_up(self):
        """Recount those of these tallies that no longer hold today and create the missing ones
        (programmes made by bulk inserts); returns how many of each."""
        expired = list(self.exclude(pk__in=ProgrammeTally.objects.current().values("pk")).values_list("pk", flat=True))
        missing = Programme.objects.filter(~Exists(ProgrammeTally.objects.filter(pk=OuterRef("pk"))))
        missing = list(missing.values_list("pk", flat=True))
        ProgrammeTally.recount(expired + missing)
        return len(expired), len(missing)


class ProgrammeTally(models.Model):
    """A programme's targets counted per status, with completion and pending reports: one row per programme.

    A national summary adds up 2,844 of these instead of judging 57,000
    targets. Recounted in the same transaction as every change to the stored
    totals of a target (TargetQuerySet.refresh_progress), to a target's
    programme, and a target's deletion. Statuses move with the date, so a tally
    is only read while current() (until an on-track target may fall behind);
    the summary counts the programmes of the others target by target, and
    `manage.py recount_tallies` (daily, and at every start) recounts them.
    """

    programme = models.OneToOneField(Programme, models.CASCADE, primary_key=True, related_name="tally")
    # The programme's, so that a year's tallies are one index range: summaries are per year.
    year = models.PositiveSmallIntegerField(db_index=True)
    targets = models.PositiveIntegerField(default=0)
    not_started = models.PositiveIntegerField(default=0)
    on_track = models.PositiveIntegerField(default=0)
    behind = models.PositiveIntegerField(default=0)
    achieved = models.PositiveIntegerField(default=0)
    reported = models.PositiveIntegerField(default=0)
    completion_sum = models.FloatField(default=0.0)
    with_value = models.PositiveIntegerField(default=0)
    pending_reports = models.PositiveIntegerField(default=0)
    counted_on = models.DateField()
    valid_until = models.DateField(null=True, help_text="null: no on-track target that could fall behind")
    tolerance = models.FloatField()

    objects = ProgrammeTallyQuerySet.as_manager()

    FIGURES = (
        "year", "targets", *Target.Status.values, "completion_sum", "with_value", "pending_reports",
        "counted_on", "valid_until", "tolerance",
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(targets=F("not_started") + F("on_track") + F("behind") + F("achieved") + F("reported")),
                name="tally_statuses_add_up",
            ),
        ]

    @classmethod
    def counted(cls, programme_ids, years=None):
        """Unsaved tallies of these programmes as of today, counted from their targets."""
        today = timezone.localdate()
        figures = tally_figures(Target.objects.filter(programme_id__in=programme_ids))
        if years is None:
            years = dict(Programme.objects.filter(pk__in=programme_ids).values_list("pk", "year"))
        tallies = []
        for pk in programme_ids:
            row = figures.get(pk, {})
            last_on_track = row.pop("last_on_track", None)
            tallies.append(cls(
                programme_id=pk, year=years[pk], **row, counted_on=today, tolerance=settings.TRACKING_BEHIND_TOLERANCE,
                valid_until=None if last_on_track is None else datetime.date.fromordinal(int(last_on_track)),
            ))
        return tallies

    @classmethod
    def recount(cls, programme_ids, batch_size=2000):
        """Count the tallies of these programmes again, creating missing ones; returns how many.

        Each tally row is made if missing and locked before the targets are
        counted, in a later statement: two transactions changing targets of
        one programme then count one after the other, and the second sees the
        first's targets (one statement would count from the snapshot it took
        before waiting). A missing row is inserted first for the same reason:
        a concurrent change then waits for that insert instead of finding no
        row to lock.
        """
        programme_ids = sorted(set(programme_ids))
        with transaction.atomic():
            for start in range(0, len(programme_ids), batch_size):
                years = dict(Programme.objects.filter(pk__in=programme_ids[start:start + batch_size]).values_list("pk", "year"))
                cls.objects.bulk_create(
                    [cls(programme_id=pk, year=year, counted_on=datetime.date.min, tolerance=-1) for pk, year in years.items()],
                    ignore_conflicts=True,
                )
                locked = lock(cls.objects.filter(pk__in=years))
                cls.objects.bulk_create(
                    cls.counted(locked, years),
                    update_conflicts=True, unique_fields=["programme"], update_fields=cls.FIGURES,
                )
        return len(programme_ids)


# --- Progress reports ------------------------------------------------------------


def validate_evidence_size(file):
    # Only new uploads: a stored file was checked when it came in, and may be
    # missing after a restore without the media volume.
    if getattr(file, "_committed", False):
        return
    if file.size > EVIDENCE_MAX_BYTES:
        raise ValidationError(_("附件不能超过 %(mb)d MB"), params={"mb": EVIDENCE_MAX_BYTES // (1024 * 1024)})


class ProgressReportQuerySet(models.QuerySet):
    def get_by_natural_key(self, region, year, kind, code, period_end):
        return self.get(
            target__programme__region=region,
            target__programme__year=year,
            target__programme__kind=kind,
            target__code=code,
            period_end=period_end,
        )

    def visible_to(self, user):
        if sees_everything(user):
            return self.all()
        return self.filter(target__programme__region__in=Region.objects.visible_to(user))


class ProgressReport(Timestamped):
    class Qualifier(models.TextChoices):
        EXACT = "exact", _("精确")
        AT_LEAST = "at_least", _("以上")
        MORE_THAN = "more_than", _("超过")
        ABOUT = "about", _("约")

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        SUBMITTED = "submitted", _("待审核")
        APPROVED = "approved", _("已通过")
        RETURNED = "returned", _("已退回")

    # No index of its own: the unique (target, period_end) constraint's index
    # starts with target and serves the joins and cascades, and at millions of
    # reports a redundant index is one more write per imported row.
    target = models.ForeignKey(
        Target, models.CASCADE, related_name="reports", verbose_name=_("指标"), db_index=False
    )
    period_end = models.DateField(_("截至日期"))
    value = models.DecimalField(_("数值"), **VALUE_FIELD, validators=NON_NEGATIVE)
    qualifier = models.CharField(_("限定"), max_length=10, choices=Qualifier.choices, default=Qualifier.EXACT)
    note = models.TextField(_("备注"), blank=True, max_length=2000)
    source_quote = models.TextField(_("原文"), blank=True, help_text=_("来自文件的数据所依据的原句"))
    evidence = models.FileField(
        _("佐证材料"),
        upload_to="evidence/%Y/%m/",
        blank=True,
        validators=[FileExtensionValidator(EVIDENCE_EXTENSIONS), validate_evidence_size],
        help_text=_("照片或 PDF，不超过 10 MB"),
    )
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("填报人")
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("审核人")
    )
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    review_note = models.TextField(_("审核意见"), blank=True, max_length=2000)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now, editable=False)

    objects = ProgressReportQuerySet.as_manager()
    # History is read per report (id) or per target, newest first; indexes on
    # its other columns would only slow down every write, imports above all.
    history = HistoricalRecords(no_db_index=["created_by", "reviewed_by", "updated_at"])

    class Meta:
        verbose_name = _("进度填报")
        verbose_name_plural = _("进度填报")
        ordering = ["target", "period_end"]
        constraints = [
            # One figure per target per as-of date: the import's natural key.
            models.UniqueConstraint(fields=["target", "period_end"], name="report_unique_target_date"),
            models.CheckConstraint(condition=Q(value__gte=0), name="report_value_non_negative"),
        ]
        indexes = [
            # progress_expressions(): a target's approved reports, latest first.
            # Only these two states ever count, so drafts (every imported row)
            # and returned reports stay out of both indexes.
            models.Index(
                fields=["target", "status", "period_end"],
                name="report_target_status_date",
                condition=Q(status__in=["approved", "submitted"]),
            ),
            # The reviewers' queue: submitted reports, oldest first.
            models.Index(fields=["period_end"], name="report_submitted_date", condition=Q(status="submitted")),
        ]

    def __str__(self):
        return f"{self.target} @ {self.period_end}: {self.value}"

    def natural_key(self):
        return (*self.target.natural_key(), self.period_end)

    natural_key.dependencies = ["tracking.target"]

    @property
    def is_editable(self):
        """Only drafts and returned reports may change; approved ones must be reopened."""
        return self.status in (self.Status.DRAFT, self.Status.RETURNED)

    def clean(self):
        if self.period_end is None or not self.target_id:
            return
        programme = self.target.programme
        if not programme.period_start <= self.period_end <= programme.period_end:
            raise ValidationError(
                {
                    "period_end": _("日期 %(date)s 不在计划期间 %(start)s 至 %(end)s 内")
                    % {"date": self.period_end, "start": programme.period_start, "end": programme.period_end}
                }
            )
        if self.period_end > timezone.localdate():
            raise ValidationError({"period_end": _("截至日期不能晚于今天")})


# Stored totals follow every single-row change to a report, including fixture
# loading (raw saves skip save() but still send post_save). Bulk writes call
# refresh_progress() themselves.
@receiver(post_save, sender=ProgressReport)
@receiver(post_delete, sender=ProgressReport)
def _refresh_target_after_report_change(sender, instance, origin=None, **kwargs):
    if not _deleting_programme(origin):
        Target.objects.filter(pk=instance.target_id).refresh_progress()


def _deleting_programme(origin):
    # Whose targets and reports are going with it: recounting its tally would bring it back.
    return isinstance(origin, Programme) or getattr(origin, "model", None) is Programme


@receiver(post_save, sender=Target)
def _refresh_target_after_save(sender, instance, **kwargs):
    # A change of aggregation changes progress; a raw fixture save may also
    # arrive after its reports.
    Target.objects.filter(pk=instance.pk).refresh_progress()


@receiver(pre_delete, sender=Programme)
def _lock_targets_before_programme_delete(sender, instance, **kwargs):
    # Deleting a programme deletes its tally first (no signals, so Django
    # deletes it before anything else), then its targets and reports. An
    # approval locks a target, then the tally: taking the targets first here
    # makes a deletion wait for the approval instead of deadlocking with it.
    lock(Target.objects.filter(programme=instance))


@receiver(post_delete, sender=Target)
def _count_programme_after_target_delete(sender, instance, origin=None, **kwargs):
    if not _deleting_programme(origin):
        ProgrammeTally.recount([instance.programme_id])
