"""Progress reports: a dated value for a target, and its review (tracking.workflow)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import FileExtensionValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from ..evidence import validate_evidence_content
from ..numbers import quantity
from .base import NON_NEGATIVE, VALUE_FIELD, Timestamped
from .regions import Region, sees_everything
from .targets import Target

EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
EVIDENCE_EXTENSIONS = ["pdf", "jpg", "jpeg", "png"]


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
        validators=[FileExtensionValidator(EVIDENCE_EXTENSIONS), validate_evidence_size, validate_evidence_content],
        help_text=_("照片或 PDF，不超过 10 MB"),
    )
    # Evidence is never public unless a reviewer publishes an approved report's
    # (tracking.services.reports.publish_evidence); the 公示 pages then link it.
    # The constraint below keeps it private once the report is reopened.
    # db_default: rows written by COPY (generate_scale_data) name only the older columns.
    evidence_public = models.BooleanField(
        _("佐证材料公开"), default=False, db_default=False, editable=False, help_text=_("公开后，任何人都可在公示页面查看、下载该佐证材料")
    )
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("填报人")
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("审核人")
    )
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    # The moment of the latest submission (admin, API or import alike: tracking.services.reports
    # sets it), from which timeliness is judged (tracking.followup.selectors).
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True, editable=False)
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
            # Only an approved figure's evidence, and only one that has a file, can be public.
            models.CheckConstraint(
                condition=Q(evidence_public=False) | (Q(status="approved") & ~Q(evidence="")),
                name="report_public_evidence_approved",
            ),
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
        # "4.1 送清凉/送温暖（2024-06-30，6,000 名）": the admin's titles and messages use it.
        value = "—" if self.value is None else quantity(self.value, self.target.unit)
        return f"{self.target}（{self.period_end}，{value}）"

    def unique_error_message(self, model_class, unique_check):
        # Django's own ("包含 指标 和 截至日期 的 进度填报 已经存在。") reads like a machine;
        # the API, the admin and the services all show this one.
        if model_class is ProgressReport and set(unique_check) == {"target", "period_end"}:
            return ValidationError(
                _("该指标在 %(date)s 已有一条填报，请修改那一条") % {"date": self.period_end},
                code="unique_together",
            )
        return super().unique_error_message(model_class, unique_check)

    def natural_key(self):
        return (*self.target.natural_key(), self.period_end)

    natural_key.dependencies = ["tracking.target"]

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
