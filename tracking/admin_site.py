"""The admin site: the tracker first, in the order a clerk works, and target search scoped to the user.

It is the project's default admin site (tracking.apps.TrackerAdminConfig
replaces django.contrib.admin in INSTALLED_APPS), so admin.site and every
admin.register() use it. It lives outside tracking/admin/, whose import
registers the model admins on admin.site: the site must exist first.
"""

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy

# The tracker's models in the order of the work: enter and review reports,
# then what they are reported against, then the reference data.
TRACKER_ORDER = [
    "progressreport", "target", "programme", "item", "message", "periodclosure", "region", "membership",
]
# Apps after the tracker; any other app comes last, alphabetically.
APP_ORDER = ["tracking", "auth", "authtoken", "axes"]
# django-axes' login records (登录安全): for superusers only, who unlock accounts there.
SUPERUSER_APPS = {"axes"}


class LoginForm(AdminAuthenticationForm):
    """The admin's login form, refusing a username no account can have before it tries to log in.

    Django's form sets the username's max_length after the field is built, so
    the length is shown to the browser but never checked: authenticate() then
    runs, and django-axes records the failure in a 255-character column.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["username"]
        field.validators.append(MaxLengthValidator(field.max_length))


class TrackerAdminSite(admin.AdminSite):
    login_form = LoginForm

    site_header = gettext_lazy("职工实事跟踪 · 管理后台")
    site_title = gettext_lazy("职工实事跟踪")
    index_title = gettext_lazy("数据填报与审核")
    # The admin app's own index.html comes first in template lookup, so ours is named here.
    index_template = "admin/tracking/index.html"
    # The sidebar repeats the index's links and takes a quarter of a 1366 px screen,
    # which the target list's progress columns need.
    enable_nav_sidebar = False

    def login(self, request, extra_context=None):
        response = super().login(request, extra_context)
        form = getattr(response, "context_data", {}).get("form")
        if request.method == "POST" and form is not None and form.has_error("username"):
            # A username the form refuses outright (too long) is a bad request; a wrong password stays a 200 form.
            response.status_code = 400
        return response

    def index(self, request, extra_context=None):
        from .models import Message

        # The reminder inbox's unread count (one query): the follow-up's digests for this user.
        unread = Message.objects.filter(user=request.user, read_at__isnull=True).count()
        return super().index(request, {"unread_messages": unread, **(extra_context or {})})

    def get_app_list(self, request, app_label=None):
        apps = [
            app for app in self._build_app_dict(request, app_label).values()
            if app["app_label"] not in SUPERUSER_APPS or request.user.is_superuser
        ]
        for app in apps:
            if app["app_label"] == "tracking":
                app["models"].sort(key=lambda model: _rank(TRACKER_ORDER, model["object_name"].lower()))
            else:
                app["models"].sort(key=lambda model: str(model["name"]))
        apps.sort(key=lambda app: (_rank(APP_ORDER, app["app_label"]), str(app["name"])))
        return apps

    def autocomplete_view(self, request):
        return ScopedAutocompleteView.as_view(admin_site=self)(request)


def _rank(order, name):
    return order.index(name) if name in order else len(order)


class ScopedAutocompleteView(AutocompleteJsonView):
    """Django's autocomplete, letting a model admin choose the rows and their labels.

    A model admin may define autocomplete_queryset(request) (the rows to search,
    already scoped; by default its get_queryset()) and autocomplete_label(obj)
    (the text of a result; by default str(obj)).
    """

    def get_queryset(self):
        rows = getattr(self.model_admin, "autocomplete_queryset", None)
        if rows is None:
            return super().get_queryset()
        queryset = rows(self.request).complex_filter(self.source_field.get_limit_choices_to())
        queryset, use_distinct = self.model_admin.get_search_results(self.request, queryset, self.term)
        return queryset.distinct() if use_distinct else queryset

    def serialize_result(self, obj, to_field_name):
        result = super().serialize_result(obj, to_field_name)
        label = getattr(self.model_admin, "autocomplete_label", None)
        if label is not None:
            result["text"] = label(obj)
        return result
