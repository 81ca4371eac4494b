"""What this app adds to the database layer: a lookup, a lock, a date function and the data version.

Each one exists because the ORM alone could not do the job at national scale
or in commit order; docs/ARCHITECTURE.md lists what each buys.
"""

import json
import secrets

from django.core.exceptions import EmptyResultSet
from django.db import connection, connections, models
from django.db.models import Func


@models.Field.register_lookup
class AnyOf(models.lookups.In):
    """`field__any=values`: `__in` for lists of any length, as one parameter.

    `__in` sends every value as a parameter of its own. PostgreSQL takes at
    most 65,535 in a statement whose parameters the server binds (settings:
    DB_PREPARED_STATEMENTS), SQLite 32,766 as usually built, and an import may
    name more targets than that. One array (PostgreSQL) or JSON list (SQLite)
    is also one prepared statement, whatever its length.
    """

    lookup_name = "any"

    def one_parameter(self, compiler, connection, template, encode):
        if not self.rhs_is_direct_value():
            return self.as_sql(compiler, connection)
        values = [value for value in self.rhs if value is not None]
        if not values:
            raise EmptyResultSet
        lhs, lhs_params = self.process_lhs(compiler, connection)
        field = self.lhs.output_field
        values = [field.get_db_prep_value(value, connection, prepared=True) for value in values]
        return template % lhs, (*lhs_params, encode(values))

    def as_postgresql(self, compiler, connection):
        return self.one_parameter(compiler, connection, "%s = ANY(%%s)", list)

    def as_sqlite(self, compiler, connection):
        # Dates and decimals are stored as text, which their JSON strings equal.
        return self.one_parameter(
            compiler, connection, "%s IN (SELECT value FROM json_each(%%s))", lambda values: json.dumps(values, default=str)
        )


# Foreign keys take only the lookups registered on them (raw key values only, not instances).
models.ForeignObject.register_lookup(AnyOf)


def lock(queryset):
    """Lock these rows (FOR UPDATE) in key order, and only these: a default ordering through
    related models would join them and lock their rows too (a programme, its region)."""
    return list(queryset.select_for_update(of=("self",)).order_by("pk").values_list("pk", flat=True))


class DayNumber(Func):
    """A date as a day count (Python's date.toordinal()), so that the share of a
    period elapsed can be computed in SQL the same way on PostgreSQL and SQLite."""

    output_field = models.IntegerField()

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="(%(expressions)s - DATE '0001-01-01' + 1)", **extra)

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection, template="CAST(julianday(%(expressions)s) - 1721424.5 AS INTEGER)", **extra
        )


def data_version():
    """A number that moves with every committed change to the rows the API shows; None while one is in flight.

    Counted by the database in triggers (migration 0006), so a change that
    commits after a body was built always moves it, which MAX(updated_at) did
    not (a transaction's timestamp is taken before it commits, and another may
    commit in between). While another session's change is in flight there is
    no version, so nothing is answered 304 or kept. (A reader inside its own
    writing transaction would see its own change counted; no GET writes.)
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tracking_data_version()")
        else:
            cursor.execute("SELECT version FROM tracking_data_version")
        return cursor.fetchone()[0]


def etag_version_and_position():
    """etag_version() on the primary, and its WAL position read after it (tracking.replicas.catch_up()).

    The function in FROM runs before the select list, so the position is taken
    after the version. It is the position flushed to disk, which is what
    replicas can receive: a commit is flushed before its writer's lock is
    released (synchronous_commit on, PostgreSQL's default, which the tracker
    needs with replicas), so every change the version counts lies before it.
    Not the insert position, which also counts records not yet flushed (a
    read's page pruning, say) that a replica cannot have for up to wal_writer_delay.
    """
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT epoch FROM tracking_etag_epoch), version, pg_current_wal_flush_lsn()::text "
            "FROM tracking_data_version() AS version"
        )
        return cursor.fetchone()


def etag_version():
    """(epoch, data version) in one query: what the API's ETags are named by.

    The epoch (migration 0008) changes when a backup is restored
    (new_etag_epoch()), so that versions the restore brings round again do
    not name different data than before. The version is None while a change
    is in flight, as data_version() says.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT (SELECT epoch FROM tracking_etag_epoch), tracking_data_version()")
        else:
            cursor.execute("SELECT (SELECT epoch FROM tracking_etag_epoch), version FROM tracking_data_version")
        return cursor.fetchone()


def new_etag_epoch():
    """A new random epoch: every ETag the API gave out before no longer matches. Returns it."""
    epoch = secrets.randbits(62)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE tracking_etag_epoch SET epoch = %s", [epoch])
    return epoch
