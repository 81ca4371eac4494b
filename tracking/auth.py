"""Who is asking: the user, their membership and their permissions, in as few queries as possible.

Every request needs the membership (it is the scope of everything the user
sees), so it comes with the user rather than in a query of its own.
"""

import functools

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db import connection
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from .models import Membership

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
    """DRF's token authentication, with the user and their membership found in the same query as the token."""

    def authenticate_credentials(self, key):
        token = token_with_user(key)
        if token is None:
            # DRF's own messages, so that its translations apply.
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return (token.user, token)


def token_with_user(key):
    """What Token.objects.select_related("user__membership").get(key=key) gives, or None.

    Every API request asks this. Through the ORM, compiling the query (joins,
    columns) and building the instances cost 0.4 ms of its 0.55 ms, more than
    the database's answer; here the SQL is written once per process and the
    rows go through each field's own database converters into from_db(), as
    the ORM would, and the related caches are set as select_related sets them.
    """
    sql, layout = _token_query(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, [key])
        row = cursor.fetchone()
    if row is None:
        return None
    token, user, membership = (
        model.from_db(connection.alias, names, [_converted(row[i], col, converters) for i, col, converters in columns])
        for model, names, columns in layout
    )
    if membership.pk is None:  # the LEFT JOIN found none
        membership = None
    else:
        Membership.user.field.set_cached_value(membership, user)
    Token.user.field.set_cached_value(token, user)
    User.membership.related.set_cached_value(user, membership)
    return token


@functools.cache
def _token_query(vendor):
    quote = connection.ops.quote_name
    token, user, membership = (model._meta.db_table for model in (Token, User, Membership))
    columns, layout = [], []
    for model, table in ((Token, token), (User, user), (Membership, membership)):
        fields = model._meta.concrete_fields
        indexes = range(len(columns), len(columns) + len(fields))
        columns += [f"{quote(table)}.{quote(field.column)}" for field in fields]
        cols = [field.get_col(table) for field in fields]
        # The compiler's conversions of a selected column: the backend's, then the field's.
        # (Bound to this connection's backend; every connection of one vendor converts alike.)
        converters = [(*connection.ops.get_db_converters(col), *col.get_db_converters(connection)) for col in cols]
        layout.append((model, [field.attname for field in fields], list(zip(indexes, cols, converters))))
    on_user = f"{quote(user)}.{quote(User._meta.pk.column)}"
    sql = (
        f"SELECT {', '.join(columns)} FROM {quote(token)}"
        f" INNER JOIN {quote(user)} ON ({on_user} = {quote(token)}.{quote(Token._meta.get_field('user').column)})"
        f" LEFT OUTER JOIN {quote(membership)}"
        f" ON ({quote(membership)}.{quote(Membership._meta.get_field('user').column)} = {on_user})"
        f" WHERE {quote(token)}.{quote(Token._meta.pk.column)} = %s"
    )
    return sql, layout


def _converted(value, col, converters):
    for convert in converters:
        value = convert(value, col, connection)
    return value

