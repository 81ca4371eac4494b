"""Row-level scope and service refusals: what every admin of this app shares.

Every queryset, choice list and object permission starts from
visible_to(user), the one scoping rule (tracking/models/regions.py). Every
change to a report goes through tracking.services, whose refusals come back
to the clerk as messages.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.utils.translation import gettext as _
from simple_history.admin import SimpleHistoryAdmin

from ..models import Item
from ..workflow import WorkflowConflict
from .display import plain_decimal_formfield
from .history import HistoryPage

STYLES = {"all": ["tracking/admin.css"]}


class ServiceRefused(Exception):
    """A workflow service said no while the admin was saving; shown as a message."""


def refusal(error):
    if isinstance(error, ValidationError):
        return "；".join(error.messages)
    return str(error) or _("您无权执行此操作")


REFUSALS = (WorkflowConflict, PermissionDenied, ValidationError)


def refusals_as_messages(model_admin, request, view, *args):
    """Run an admin view; a service's refusal rolls back and comes back as a message."""
    try:
        return view(request, *args)
    except ServiceRefused as error:
        model_admin.message_user(request, str(error), messages.ERROR)
        return HttpResponseRedirect(request.get_full_path())


class ScopedMixin:
    """Row-level scope on top of the model permissions of the role groups."""

    # Django's "-" reads like a typo next to our "—".
    empty_value_display = "—"

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def in_scope(self, request, obj):
        # Asked several times per page; one query per object and request is enough.
        cache = request.__dict__.setdefault("_tracking_in_scope", {})
        key = (self.model._meta.label, obj.pk)
        if key not in cache:
            cache[key] = obj.pk is not None and self.model.objects.visible_to(request.user).filter(pk=obj.pk).exists()
        return cache[key]

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and (obj is None or self.in_scope(request, obj))

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (obj is None or self.in_scope(request, obj))

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and (obj is None or self.in_scope(request, obj))

    def get_object(self, request, object_id, from_field=None):
        # Out of scope and nonexistent look the same: 404, rather than the
        # admin's redirect that would tell the two apart.
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(_("对象不存在或不在您的权限范围内"))
        return obj

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        return super().formfield_for_foreignkey(db_field, request, **scoped_choices(db_field, request, kwargs))

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        return super().formfield_for_dbfield(db_field, request, **plain_decimal_formfield(db_field, kwargs))


def scoped_choices(db_field, request, kwargs):
    related = db_field.related_model
    if "queryset" not in kwargs and hasattr(related.objects, "visible_to"):
        kwargs["queryset"] = related.objects.visible_to(request.user)
        if related is Item:
            kwargs["queryset"] = kwargs["queryset"].select_related("programme__region")
    return kwargs


class ScopedHistoryAdmin(HistoryPage, ScopedMixin, SimpleHistoryAdmin):
    """History pages scoped like the rest, in words a clerk reads (HistoryPage); old versions
    can be read, never restored.

    Restoring a version would write a report past the workflow services (an
    approved report could become a draft again), so it is switched off here
    and the POST that would do it is refused.
    """

    def revert_disabled(self, request, obj=None):
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method != "GET":
            raise PermissionDenied
        # The object through the scoped get_object() first: a missing, malformed or
        # out-of-scope id is the same 404 (simple-history would answer 403 for
        # another district's version, and a 500 for a version id that is no number).
        self.get_object(request, object_id)
        if not str(version_id).isdigit():
            raise Http404(_("对象不存在或不在您的权限范围内"))
        return super().history_form_view(request, object_id, version_id, extra_context)


class ScopedInlineMixin:
    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        return super().formfield_for_foreignkey(db_field, request, **scoped_choices(db_field, request, kwargs))

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        return super().formfield_for_dbfield(db_field, request, **plain_decimal_formfield(db_field, kwargs))

class DeletesThroughService:
    """An admin whose deletions, one object or a list's selection, go through a service function
    (tracking.services.plans) that recounts what the deletion changes."""

    def delete_through_service(self, obj):
        raise NotImplementedError

    def delete_model(self, request, obj):
        self.delete_through_service(obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_through_service(obj)
