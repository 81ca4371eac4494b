"""Django's PostgreSQL backend, with bulk operations kept within a statement's 65,535 parameters.

Parameters bound by the server (settings: DB_PREPARED_STATEMENTS) each travel
on their own, counted in 16 bits. Django puts all of a bulk operation's
objects into one statement on PostgreSQL, so deleting more than 65,535
targets at once (the deletion collector asks for their reports with one list)
failed. Batches are sized here, as Django sizes them for SQLite (whose limit
is of the same kind), from the parameters each object needs.
"""

from django.db.backends.postgresql import base, operations

MAX_PARAMETERS = 65_535


class DatabaseOperations(operations.DatabaseOperations):
    def bulk_batch_size(self, fields, objs):
        # A bulk update sends two per field and object (CASE WHEN key THEN value), and the key.
        return max(1, min(len(objs), MAX_PARAMETERS // (2 * len(fields) + 1)))


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
