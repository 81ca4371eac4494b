from axes import apps as axes_apps
from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class TrackingConfig(AppConfig):
    name = "tracking"
    verbose_name = _("职工实事跟踪")
    default_auto_field = "django.db.models.BigAutoField"


class TrackerAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the tracker's site (tracking/admin_site.py) as admin.site.

    Named in INSTALLED_APPS instead of django.contrib.admin; default = False
    keeps Django from taking it for the tracking app's own config.
    """

    default = False
    default_site = "tracking.admin_site.TrackerAdminSite"


class LoginRecordsConfig(axes_apps.AppConfig):
    """django-axes under a Chinese name (it has none of its own; its models' names are in
    tracking/locale/zh_Hans). Named in INSTALLED_APPS instead of axes."""

    default = False
    verbose_name = _("登录安全")
