from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Every figure: up to 16 digits before the point and 4 after (12000 名, 335万元, 95.5 %).
VALUE_FIELD = {"max_digits": 20, "decimal_places": 4}
NON_NEGATIVE = [MinValueValidator(Decimal("0"), _("数值不能为负数"))]

__all__ = ["NON_NEGATIVE", "VALUE_FIELD", "Timestamped"]


class Timestamped(models.Model):
    """updated_at drives the updated_since filters and the report detail's ETag.

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
