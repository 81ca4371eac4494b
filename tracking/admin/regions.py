"""Regions, and memberships (read-only: `manage.py grant` gives them)."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy

from ..models import Membership, Region
from .scope import ScopedMixin


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
        (gettext_lazy("群机器人提醒"), {"fields": ["webhook_kind", "webhook_url", "webhook_secret"]}),
    ]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if "webhook_secret" in form.base_fields:
            # Never shown back on the page: an empty field keeps the stored secret.
            form.base_fields["webhook_secret"].widget = forms.PasswordInput(render_value=False)
            form.base_fields["webhook_secret"].required = False
        return form

    def save_model(self, request, obj, form, change):
        if change and not form.cleaned_data.get("webhook_secret") and "webhook_secret" in form.changed_data:
            obj.webhook_secret = Region.objects.get(pk=obj.pk).webhook_secret
        super().save_model(request, obj, form, change)


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
