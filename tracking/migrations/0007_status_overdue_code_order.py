# Issue 15.
#
# Codes in natural order: each target keeps code_key(code) (1.2 before 1.10),
# and the year index that pages the targets list carries it in place of the
# code, so that deep pages stay index-only in the new order.
#
# Status tells the truth: a target without progress falls behind, and one
# past its due date is overdue. Tallies count the new status, and every tally
# counted by the old rule is expired here, so that summaries judge targets
# one by one until `manage.py recount_tallies` (run at every container start)
# recounts them.
#
# And the data version counts only this database's writers (see below).

import datetime

import django.db.models.expressions
from django.db import migrations, models

from tracking.models.targets import code_key

BATCH = 2000


def fill_code_keys(apps, schema_editor):
    Target = apps.get_model("tracking", "Target")
    rows = Target.objects.order_by("pk").values_list("pk", "code")
    batch = []
    for pk, code in rows.iterator(chunk_size=BATCH):
        batch.append(Target(pk=pk, code_key=code_key(code)))
        if len(batch) == BATCH:
            Target.objects.bulk_update(batch, ["code_key"])
            batch = []
    Target.objects.bulk_update(batch, ["code_key"])


def expire_tallies(apps, schema_editor):
    ProgrammeTally = apps.get_model("tracking", "ProgrammeTally")
    ProgrammeTally.objects.update(counted_on=datetime.date.min, valid_until=datetime.date.min)


YEAR_INDEX = models.Index(fields=["year", "programme", "code_key", "id"], name="target_year_programme_key")


def add_year_index(apps, schema_editor):
    options = {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}
    schema_editor.add_index(apps.get_model("tracking", "Target"), YEAR_INDEX, **options)


def remove_year_index(apps, schema_editor):
    options = {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}
    schema_editor.remove_index(apps.get_model("tracking", "Target"), YEAR_INDEX, **options)


def count_overdue_as_behind(apps, schema_editor):
    """Backwards: the old constraint knows no overdue column; the tallies are expired anyway."""
    ProgrammeTally = apps.get_model("tracking", "ProgrammeTally")
    ProgrammeTally.objects.update(
        behind=models.F("behind") + models.F("overdue"), overdue=0,
        counted_on=datetime.date.min, valid_until=datetime.date.min,
    )


def restore_target_triggers(apps, schema_editor):
    """On SQLite, adding or removing a column rebuilds the table without the triggers that move the
    data version (migration 0006): make them again. PostgreSQL keeps its triggers."""
    if schema_editor.connection.vendor != "sqlite":
        return
    for event in ("INSERT", "UPDATE", "DELETE"):
        schema_editor.execute(
            f"CREATE TRIGGER IF NOT EXISTS tracking_target_{event.lower()}_data_version AFTER {event} ON tracking_target "
            "BEGIN UPDATE tracking_data_version SET version = version + 1; END"
        )


# Migration 0006's reader looked for writers in every database of the server:
# a write in flight in another database on the same PostgreSQL (a staging copy,
# another project's tests) turned every ETag here off. Advisory locks belong to
# one database (pg_locks.database); only this one's writers count.
DATA_VERSION_LOCK = 1953655670


def data_version_function(this_database_only):
    scope = "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())" if this_database_only else ""
    return f"""
        CREATE OR REPLACE FUNCTION tracking_data_version() RETURNS bigint LANGUAGE plpgsql AS $$
        DECLARE
            version bigint;
        BEGIN
            -- Before the first nextval() last_value is already 1: count from 0.
            SELECT CASE WHEN is_called THEN last_value ELSE 0 END INTO version FROM tracking_data_version_seq;
            -- Read first, then look for writers: one counted in it took the
            -- lock before drawing and keeps it until its change is visible.
            -- Looking takes no lock, so readers never stop writers or each other.
            -- (A bigint key shows as classid, objid and objsubid 1.)
            IF EXISTS (
                SELECT FROM pg_locks
                WHERE locktype = 'advisory' AND classid = {DATA_VERSION_LOCK >> 32}
                    AND objid = {DATA_VERSION_LOCK & 0xFFFFFFFF} AND objsubid = 1 {scope}
                    AND granted AND pid <> pg_backend_pid()
            ) THEN
                RETURN NULL;
            END IF;
            RETURN version;
        END $$
    """


def data_version_of_this_database(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(data_version_function(this_database_only=True))


def data_version_of_every_database(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(data_version_function(this_database_only=False))


def statuses(*names):
    total = models.F(names[0])
    for name in names[1:]:
        total = django.db.models.expressions.CombinedExpression(total, "+", models.F(name))
    return total


class Migration(migrations.Migration):
    # Not one transaction: an index built in the transaction that filled its
    # column would also hold an entry for every row version that filling left
    # behind (PostgreSQL indexes rows its own transaction deleted), twice its
    # size for good. The fill commits first, in a transaction of its own; then
    # the index is built concurrently, which reads the rows as a snapshot sees
    # them and so leaves out every dead version (a plain build would still take
    # those that a running autovacuum's snapshot may see), and lets writes go on.
    atomic = False

    dependencies = [
        ("tracking", "0006_data_version"),
    ]

    operations = [
        # Backwards, after code_key is removed again.
        migrations.RunPython(migrations.RunPython.noop, restore_target_triggers),
        migrations.AddField(
            model_name="target",
            name="code_key",
            field=models.CharField(default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.RunPython(restore_target_triggers, migrations.RunPython.noop),
        migrations.RunPython(fill_code_keys, migrations.RunPython.noop, atomic=True),
        migrations.RemoveIndex(model_name="target", name="target_year_programme_code"),
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="target", index=YEAR_INDEX)],
            database_operations=[migrations.RunPython(add_year_index, remove_year_index, atomic=False)],
        ),
        migrations.AlterModelOptions(
            name="target",
            options={"ordering": ["programme", "item__number", "code_key"], "verbose_name": "指标", "verbose_name_plural": "指标"},
        ),
        migrations.AddField(
            model_name="programmetally",
            name="overdue",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AlterField(
            model_name="programmetally",
            name="valid_until",
            field=models.DateField(help_text="null: every target's status is final", null=True),
        ),
        migrations.RemoveConstraint(model_name="programmetally", name="tally_statuses_add_up"),
        migrations.RunPython(migrations.RunPython.noop, count_overdue_as_behind),
        migrations.AddConstraint(
            model_name="programmetally",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("targets", statuses("not_started", "on_track", "behind", "overdue", "achieved", "reported"))
                ),
                name="tally_statuses_add_up",
            ),
        ),
        migrations.RunPython(expire_tallies, migrations.RunPython.noop),
        migrations.RunPython(data_version_of_this_database, data_version_of_every_database),
    ]
