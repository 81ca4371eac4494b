"""Regions, and memberships (read-only: `manage.py grant` gives them)."""

from django.contrib import admin

from ..models import Membership, Region
from .scope import ScopedMixin


@admin.register(Region)
class RegionAdmin(ScopedMixin, admin.ModelAdmin):
    list_display = ["code", "name", "level", "parent", "union_name"]
    list_select_related = ["parent"]
    search_fields = ["code", "name", "union_name"]


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
