"""A data version that moves with every committed change to what the API shows.

ETags and the bodies kept for them used MAX(updated_at) and the newest history
id. Neither is in commit order: a transaction that took its timestamp first but
committed last left both unchanged, and the old body was served as current.

Here the database itself counts changes, in triggers, so nothing that writes
(the ORM, queryset.update(), COPY, loaddata, a script) can skip it:

- PostgreSQL: every writing statement takes a shared advisory lock, held until
  its transaction ends, then draws from a sequence. tracking_data_version()
  returns the sequence's value, or NULL while another session holds that lock,
  that is while a change is in flight; then the reader neither answers 304 nor
  keeps the body. Nobody waits: writers share the lock, readers only look.
- SQLite: one writer at a time, so a counter row bumped in the writer's own
  transaction is enough; readers see it move when the change commits.
"""

from django.db import migrations

TABLES = ["tracking_region", "tracking_programme", "tracking_item", "tracking_target", "tracking_progressreport"]
# Any constant shared by the writers' trigger and the readers' function.
LOCK = 1953655670


def forwards(apps, schema_editor):
    execute = schema_editor.execute
    if schema_editor.connection.vendor == "postgresql":
        execute("CREATE SEQUENCE tracking_data_version_seq")
        execute(
            f"""
            CREATE FUNCTION tracking_data_changed() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM pg_advisory_xact_lock_shared({LOCK});
                PERFORM nextval('tracking_data_version_seq');
                RETURN NULL;
            END $$
            """
        )
        execute(
            f"""
            CREATE FUNCTION tracking_data_version() RETURNS bigint LANGUAGE plpgsql AS $$
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
                    WHERE locktype = 'advisory' AND classid = {LOCK >> 32} AND objid = {LOCK & 0xFFFFFFFF}
                        AND objsubid = 1 AND granted AND pid <> pg_backend_pid()
                ) THEN
                    RETURN NULL;
                END IF;
                RETURN version;
            END $$
            """
        )
        for table in TABLES:
            execute(
                f"CREATE TRIGGER tracking_data_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION tracking_data_changed()"
            )
    elif schema_editor.connection.vendor == "sqlite":
        execute("CREATE TABLE tracking_data_version (id integer PRIMARY KEY CHECK (id = 1), version integer NOT NULL)")
        execute("INSERT INTO tracking_data_version VALUES (1, 1)")
        for table in TABLES:
            for event in ("INSERT", "UPDATE", "DELETE"):
                execute(
                    f"CREATE TRIGGER {table}_{event.lower()}_data_version AFTER {event} ON {table} "
                    "BEGIN UPDATE tracking_data_version SET version = version + 1; END"
                )
    else:
        raise NotImplementedError(f"no data version for {schema_editor.connection.vendor}")


def backwards(apps, schema_editor):
    execute = schema_editor.execute
    if schema_editor.connection.vendor == "postgresql":
        for table in TABLES:
            execute(f"DROP TRIGGER tracking_data_changed ON {table}")
        execute("DROP FUNCTION tracking_data_version()")
        execute("DROP FUNCTION tracking_data_changed()")
        execute("DROP SEQUENCE tracking_data_version_seq")
    else:
        for table in TABLES:
            for event in ("insert", "update", "delete"):
                execute(f"DROP TRIGGER {table}_{event}_data_version")
        execute("DROP TABLE tracking_data_version")


class Migration(migrations.Migration):

    dependencies = [
        ("tracking", "0005_programme_tally"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
