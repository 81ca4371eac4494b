"""Closed periods and reminder messages (tracking.followup)."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .regions import Region


class PeriodClosure(models.Model):
    """A region's reports dated start..end may no longer be created, changed, imported or submitted.

    Closing for every region under a reviewer writes one row per region, so
    that one district can be reopened alone. Reopening keeps the row (who,
    when, why): the rows are the audit trail, and closing again adds a new one.
    """

    region = models.ForeignKey(Region, models.PROTECT, related_name="closures", verbose_name=_("地区"))
    start = models.DateField(_("起始日期"))
    end = models.DateField(_("截止日期"))
    reason = models.TextField(_("关闭说明"), blank=True, max_length=2000)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+", verbose_name=_("关闭人")
    )
    closed_at = models.DateTimeField(_("关闭时间"), default=timezone.now)
    reopened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("重新开放人")
    )
    reopened_at = models.DateTimeField(_("重新开放时间"), null=True, blank=True)
    reopen_reason = models.TextField(_("重新开放理由"), blank=True, max_length=2000)

    class Meta:
        verbose_name = _("关闭的期间")
        verbose_name_plural = _("关闭的期间")
        ordering = ["-start", "region"]
        constraints = [
            models.CheckConstraint(condition=Q(start__lte=F("end")), name="closure_period_ordered"),
            # One open closure per region and period; a reopened one stays as history.
            models.UniqueConstraint(
                fields=["region", "start", "end"], condition=Q(reopened_at__isnull=True), name="closure_unique_active"
            ),
        ]
        indexes = [
            # closing.ensure_open(): the active closures of a few regions around some dates.
            models.Index(fields=["region", "end"], name="closure_active", condition=Q(reopened_at__isnull=True)),
        ]

    def __str__(self):
        return f"{self.region} {self.start}～{self.end}"


class Message(models.Model):
    """One reminder digest for one recipient on one channel: what it says, whether it went out.

    key names the digest (the day's run, e.g. "2024-07-03"): with recipient
    and channel it is unique, so a second run (or a concurrent one) finds the
    row and sends nothing twice; a failed one is sent again by the next run.
    """

    class Channel(models.TextChoices):
        EMAIL = "email", _("邮件")
        # A user without an email address: the admin's inbox alone.
        INBOX = "inbox", _("站内")
        WECOM = "wecom", _("企业微信")
        DINGTALK = "dingtalk", _("钉钉")

    class Result(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")

    # A person (email) or a region's group chat (webhooks).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, null=True, blank=True, related_name="messages", verbose_name=_("收件人")
    )
    region = models.ForeignKey(
        Region, models.CASCADE, null=True, blank=True, related_name="messages", verbose_name=_("群")
    )
    recipient = models.CharField(_("收件地址"), max_length=300)
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    key = models.CharField(_("批次"), max_length=40)
    subject = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"))
    events = models.JSONField(_("事件"), default=list)
    result = models.CharField(_("结果"), max_length=10, choices=Result.choices, default=Result.PENDING)
    error = models.TextField(_("失败原因"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("发送次数"), default=0)
    created_at = models.DateTimeField(_("生成时间"), default=timezone.now)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("提醒消息")
        verbose_name_plural = _("提醒消息")
        ordering = ["-created_at", "-id"]
        constraints = [
            # Idempotence of send_reminders: one digest per recipient, channel and run key.
            models.UniqueConstraint(fields=["recipient", "channel", "key"], name="message_unique_digest"),
        ]
        indexes = [
            # The admin index's unread count, and a user's inbox.
            models.Index(fields=["user", "read_at"], name="message_user_unread"),
            # The next run's retries.
            models.Index(fields=["result"], name="message_unsent", condition=~Q(result="sent")),
        ]

    def __str__(self):
        return f"{self.recipient} · {self.subject}"
