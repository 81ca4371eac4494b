"""The region tree and who works for which region: the one scoping rule lives here."""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


def sees_everything(user):
    """Superusers see every region; their querysets need no region filter.

    Filtering on "any region" would make the database match every row against
    the whole region table, which at national scale costs more than the rest
    of a typical query.
    """
    return user.is_authenticated and user.is_active and user.is_superuser


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
    # When the region existed (撤并, 新设): completeness counts a region only for the
    # periods it existed throughout (tracking.followup.selectors). Empty: always.
    valid_from = models.DateField(_("设立日期"), null=True, blank=True, help_text=_("留空表示一直存在"))
    valid_to = models.DateField(_("撤销日期"), null=True, blank=True, help_text=_("最后存在的一天；留空表示仍存在"))
    # Reminders to the region's group chat (tracking.followup.channels): a 企业微信 or 钉钉 group robot.
    # db_default: rows written by COPY (generate_scale_data) name only the older columns.
    webhook_kind = models.CharField(
        _("群机器人"), max_length=10, blank=True, db_default="",
        choices=[("wecom", _("企业微信")), ("dingtalk", _("钉钉"))],
    )
    webhook_url = models.URLField(_("群机器人地址"), max_length=500, blank=True, db_default="")
    webhook_secret = models.CharField(
        _("加签密钥"), max_length=200, blank=True, db_default="", help_text=_("钉钉机器人“加签”的密钥；不会写入日志")
    )

    objects = RegionQuerySet.as_manager()

    class Meta:
        verbose_name = _("地区")
        verbose_name_plural = _("地区")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True) | Q(valid_to__isnull=True) | Q(valid_from__lte=models.F("valid_to")),
                name="region_validity_ordered",
            ),
        ]

    def __str__(self):
        return self.name

    # No natural_key(): the code already is the primary key, and a natural key
    # would make `dumpdata --natural-primary` drop it from the dump.


class Membership(models.Model):
    """Which region a user works for, and in which role (tracking.access says what each role may do)."""

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
