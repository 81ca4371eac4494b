"""Regions, and memberships (read-only: `manage.py grant` gives them)."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy

from ..models import Membership, Region
from .scope import ScopedMixin


class SecretField(forms.CharField):
    """A secret the page never shows: only one typed in is a change (an empty field keeps the stored one)."""

    widget = forms.PasswordInput(render_value=False)

    def has_changed(self, initial, data):
        return bool(data)


class RegionForm(forms.ModelForm):
    """The signing secret is never shown back: an empty field keeps the stored one, a typed one replaces
    it, 清除 removes it."""

    clear_webhook_secret = forms.BooleanField(
        label=gettext_lazy("清除加签密钥"), required=False,
        help_text=gettext_lazy("勾选后保存，删除已保存的密钥（机器人不再加签）"),
    )

    class Meta:
        model = Region
        # The admin makes the form of its fieldsets from this one (ModelAdmin.get_form); naming only the
        # secret here builds no other field when this module is imported (the URL field would warn then).
        fields = ["webhook_secret"]
        field_classes = {"webhook_secret": SecretField}
        # Here, not only on the field: the admin's default widget for text columns would win otherwise.
        widgets = {"webhook_secret": forms.PasswordInput(render_value=False)}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "webhook_secret" in self.fields:
            self.fields["webhook_secret"].required = False
            if self.instance.pk and self.instance.webhook_secret:
                # Whether one is set, never what it is.
                self.fields["webhook_secret"].help_text = gettext_lazy(
                    "已保存一个密钥（不显示）。留空则保留它，填写则替换它；不会写入日志"
                )

    def clean(self):
        cleaned = super().clean()
        if "webhook_secret" not in self.fields:
            return cleaned
        typed = cleaned.get("webhook_secret")
        if cleaned.get("clear_webhook_secret"):
            if typed:
                self.add_error("clear_webhook_secret", gettext_lazy("填写了新密钥又勾选了清除：请只做其中一项"))
            cleaned["webhook_secret"] = ""
        elif not typed:
            cleaned["webhook_secret"] = self.instance.webhook_secret
        return cleaned


@admin.register(Region)
class RegionAdmin(ScopedMixin, admin.ModelAdmin):
    list_display = ["code", "name", "level", "parent", "union_name", "valid_from", "valid_to", "webhook_kind"]
    list_select_related = ["parent"]
    search_fields = ["code", "name", "union_name"]
    fieldsets = [
        (None, {"fields": ["code", "name", "union_name", "level", "parent"]}),
        # Completeness counts a region only for the periods it existed (tracking.followup.selectors).
        (gettext_lazy("存续期间"), {"fields": ["valid_from", "valid_to"]}),
        # Reminders to the region's group chat (tracking.followup.channels).
        (gettext_lazy("群机器人提醒"), {
            "fields": ["webhook_kind", "webhook_url", "webhook_secret", "clear_webhook_secret"],
        }),
    ]
    form = RegionForm


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    """Read-only: accounts are granted with `manage.py grant`, which also sets the role's group."""

    list_display = ["user", "region", "role"]
    list_select_related = ["user", "region"]
    list_filter = ["role"]
    search_fields = ["user__username", "region__name"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
