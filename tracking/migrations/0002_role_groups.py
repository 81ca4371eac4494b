"""The three role groups and their model permissions.

Row-level scope (which regions) is not a permission: it comes from the user's
Membership through Region.objects.visible_to().
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

VIEW_ALL = [
    "view_region",
    "view_programme",
    "view_item",
    "view_target",
    "view_progressreport",
]
ROLE_PERMISSIONS = {
    "填报员": VIEW_ALL + ["add_progressreport", "change_progressreport", "delete_progressreport"],
    "管理员": VIEW_ALL
    + ["add_progressreport", "change_progressreport", "delete_progressreport"]
    + [f"{action}_{model}" for model in ("programme", "item", "target") for action in ("add", "change", "delete")],
    # Reviewers change a report's status, never its value; the admin makes the
    # value read-only for them.
    "审核员": VIEW_ALL + ["change_progressreport"],
}


def create_groups(apps, schema_editor):
    # Permissions are normally created after all migrations; create them now so
    # that a fresh database gets its groups in one migrate.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(Permission.objects.filter(content_type__app_label="tracking", codename__in=codenames))


class Migration(migrations.Migration):
    dependencies = [
        ("tracking", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, migrations.RunPython.noop)]
