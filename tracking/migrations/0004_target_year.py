# National scale (issue 6): each target carries its programme's year and
# start date, so that the targets list filtered by year (the dashboards' list)
# counts and pages through one index range instead of joining every target to
# its programme. On PostgreSQL a foreign key on (programme, year, period_start)
# keeps the copies equal to the programme's; Target.save() and
# Programme.save() copy them everywhere.

import datetime

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery

FOREIGN_KEY = "target_copies_programme_year_start"


def fill_copies(apps, schema_editor):
    Programme = apps.get_model("tracking", "Programme")
    Target = apps.get_model("tracking", "Target")
    programme = Programme.objects.filter(pk=OuterRef("programme_id"))
    Target.objects.update(
        year=Subquery(programme.values("year")[:1]), period_start=Subquery(programme.values("period_start")[:1])
    )


def add_foreign_key(apps, schema_editor):
    # Django has no composite foreign keys; SQLite cannot add a constraint to an existing table.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"ALTER TABLE tracking_target ADD CONSTRAINT {FOREIGN_KEY} FOREIGN KEY (programme_id, year, period_start) "
            "REFERENCES tracking_programme (id, year, period_start) ON UPDATE CASCADE DEFERRABLE INITIALLY DEFERRED"
        )


def drop_foreign_key(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE tracking_target DROP CONSTRAINT {FOREIGN_KEY}")


class Migration(migrations.Migration):

    dependencies = [
        ("tracking", "0003_scale"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="programme",
            constraint=models.UniqueConstraint(
                fields=("id", "year", "period_start"), name="programme_unique_id_year_start"
            ),
        ),
        migrations.AddField(
            model_name="target",
            name="year",
            field=models.PositiveSmallIntegerField(default=0, editable=False, verbose_name="年度"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="target",
            name="period_start",
            field=models.DateField(default=datetime.date(2000, 1, 1), editable=False, verbose_name="起始日期"),
            preserve_default=False,
        ),
        migrations.RunPython(fill_copies, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="target",
            name="programme",
            field=models.ForeignKey(
                db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="targets",
                to="tracking.programme", verbose_name="计划",
            ),
        ),
        migrations.AddIndex(
            model_name="target",
            index=models.Index(fields=["year", "programme", "code", "id"], name="target_year_programme_code"),
        ),
        migrations.AddIndex(
            model_name="target",
            index=models.Index(fields=["year"], name="target_year"),
        ),
        migrations.RunPython(add_foreign_key, drop_foreign_key),
    ]
