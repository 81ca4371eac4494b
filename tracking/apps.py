from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TrackingConfig(AppConfig):
    name = "tracking"
    verbose_name = _("职工实事跟踪")
    default_auto_field = "django.db.models.BigAutoField"
