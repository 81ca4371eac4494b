"""Closed periods (关闭期间) and reminder messages (提醒消息): the follow-up's admins.

Closing and reopening go through tracking.followup.closing; the closure rows
are never deleted, so they are the audit trail of who closed and reopened
what, when and why. Messages are an inbox: each user sees their own (a
superuser sees every message, group-robot ones too); opening one marks it read.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import access
from ..followup import closing
from ..models import Message, PeriodClosure, Region
from .scope import STYLES


class CloseForm(forms.ModelForm):
    subtree = forms.BooleanField(
        label=gettext_lazy("同时关闭所有下级地区"), required=False, initial=True,
    )

    class Meta:
        model = PeriodClosure
        fields = ["region", "start", "end", "reason"]

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise ValidationError({"end": _("截止日期不能早于起始日期")})
        return data


class ReopenForm(forms.ModelForm):
    class Meta:
        model = PeriodClosure
        fields = ["reopen_reason"]

    def clean_reopen_reason(self):
        reason = (self.cleaned_data.get("reopen_reason") or "").strip()
        if not reason:
            raise ValidationError(_("重新开放时必须填写理由"))
        return reason


@admin.register(PeriodClosure)
class PeriodClosureAdmin(admin.ModelAdmin):
    list_display = ["region", "start", "end", "reason", "closed_by", "closed_at", "state", "reopened_by", "reopen_reason"]
    list_select_related = ["region", "closed_by", "reopened_by"]
    list_filter = [("reopened_at", admin.EmptyFieldListFilter)]
    search_fields = ["region__name", "region__code", "reason", "reopen_reason"]
    date_hierarchy = "start"
    empty_value_display = "—"

    class Media:
        css = STYLES

    def get_queryset(self, request):
        return super().get_queryset(request).filter(region__in=Region.objects.visible_to(request.user))

    def get_form(self, request, obj=None, **kwargs):
        kwargs["form"] = CloseForm if obj is None else ReopenForm
        form = super().get_form(request, obj, **kwargs)
        if obj is None:
            form.base_fields["region"].queryset = Region.objects.visible_to(request.user)
        return form

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["region", "start", "end", "reason", "subtree"]
        return ["region", "start", "end", "reason", "closed_by", "closed_at", "reopen_reason"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        readonly = ["region", "start", "end", "reason", "closed_by", "closed_at"]
        return readonly + (["reopen_reason"] if obj.reopened_at else [])

    @admin.display(description=gettext_lazy("状态"), ordering="reopened_at")
    def state(self, closure):
        return _("已重新开放") if closure.reopened_at else _("已关闭")

    def has_add_permission(self, request):
        return super().has_add_permission(request) and access.reviews_reports(request.user)

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj) and access.reviews_reports(request.user)
        return allowed and (obj is None or obj.reopened_at is None)

    def has_delete_permission(self, request, obj=None):
        # The rows are the audit trail.
        return False

    def save_model(self, request, obj, form, change):
        try:
            if change:
                closing.reopen_period(user=request.user, closure=obj, reason=form.cleaned_data["reopen_reason"])
            else:
                created = closing.close_period(
                    user=request.user, region=obj.region, start=obj.start, end=obj.end, reason=obj.reason,
                    subtree=form.cleaned_data.get("subtree", False),
                )
                if created:
                    obj.pk = next((c.pk for c in created if c.region_id == obj.region_id), created[0].pk)
                else:
                    existing = PeriodClosure.objects.filter(
                        region=obj.region, start=obj.start, end=obj.end, reopened_at__isnull=True
                    ).first()
                    obj.pk = existing.pk
                self.message_user(request, _("已关闭 %(n)d 个地区的该期间") % {"n": len(created)}, messages.SUCCESS)
        except (PermissionDenied, ValidationError) as error:
            raise PermissionDenied("；".join(getattr(error, "messages", [str(error)]))) from error

    def log_addition(self, request, obj, message):
        # The closure rows themselves record who and when.
        return None


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["subject", "channel", "recipient", "result", "sent_at", "read"]
    list_filter = ["channel", "result", ("read_at", admin.EmptyFieldListFilter)]
    search_fields = ["subject", "body", "recipient"]
    readonly_fields = ["subject", "body_text", "channel", "recipient", "result", "error", "attempts", "created_at",
                       "sent_at", "read_at"]
    fields = readonly_fields
    list_select_related = ["user"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(user=request.user)

    @admin.display(description=gettext_lazy("已读"), boolean=True)
    def read(self, message):
        return message.read_at is not None if message.user_id else None

    @admin.display(description=gettext_lazy("内容"))
    def body_text(self, message):
        from django.utils.html import linebreaks
        return linebreaks(message.body)

    def has_view_permission(self, request, obj=None):
        # Everyone reads their own inbox; get_queryset keeps it to them.
        return request.user.is_active and request.user.is_staff

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Opening a message of one's own marks it read.
        Message.objects.filter(pk=object_id, user=request.user, read_at__isnull=True).update(read_at=timezone.now())
        return super().change_view(request, object_id, form_url, extra_context)
