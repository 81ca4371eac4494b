"""Who is asking: the user, their membership and their permissions, in as few queries as possible.

Every request needs the membership (it is the scope of everything the user
sees), so it comes with the user rather than in a query of its own.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

User = get_user_model()


class AccountBackend(ModelBackend):
    """Django's ModelBackend, loading the membership with the user and all permissions in one query."""

    def get_user(self, user_id):
        try:
            user = User._default_manager.select_related("membership").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None

    def get_all_permissions(self, user_obj, obj=None):
        # The admin asks on every page; ModelBackend answers with two queries,
        # the user's own permissions and their groups'.
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            names = ("content_type__app_label", "codename")
            if user_obj.is_superuser:
                perms = Permission.objects.values_list(*names)
            else:
                own = Permission.objects.filter(user=user_obj).values_list(*names).order_by()
                grouped = Permission.objects.filter(group__user=user_obj).values_list(*names).order_by()
                perms = own.union(grouped)
            user_obj._perm_cache = {f"{app}.{codename}" for app, codename in perms}
        return user_obj._perm_cache


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token authentication, with the membership fetched in the same query as the token and user."""

    def authenticate_credentials(self, key):
        try:
            token = self.get_model().objects.select_related("user__membership").get(key=key)
        except self.get_model().DoesNotExist:
            # DRF's own messages, so that its translations apply.
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return (token.user, token)
