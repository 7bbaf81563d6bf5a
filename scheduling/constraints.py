"""Database rules that only Postgres can enforce, declared so that SQLite builds the same tables.

The booking service serialises bookings on SQLite (IMMEDIATE transactions take the write lock
before the overlap check), so there the rule lives in code; on Postgres the database enforces it.
"""

from typing import Any

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Func


class TsTzRange(Func):
    """TSTZRANGE(start, end): the half-open range [start, end) of two timestamptz columns."""

    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


class PostgresExclusionConstraint(ExclusionConstraint):
    """An exclusion constraint on Postgres; on any other database it emits no SQL at all.

    A subclass rather than a conditional migration: SQLite rebuilds a table for many schema
    changes, rendering every constraint of the model, and this one must render as nothing there
    on every later rebuild too, not only in the migration that adds it.
    """

    def constraint_sql(self, model: Any, schema_editor: Any) -> Any:
        if schema_editor.connection.vendor != "postgresql":
            return None
        return super().constraint_sql(model, schema_editor)

    def create_sql(self, model: Any, schema_editor: Any) -> Any:
        if schema_editor.connection.vendor != "postgresql":
            return None
        return super().create_sql(model, schema_editor)

    def remove_sql(self, model: Any, schema_editor: Any) -> Any:
        if schema_editor.connection.vendor != "postgresql":
            return None
        return super().remove_sql(model, schema_editor)

    def validate(self, model: Any, instance: Any, exclude: Any = None,
                 using: str = DEFAULT_DB_ALIAS) -> None:
        if connections[using].vendor != "postgresql":
            return
        super().validate(model, instance, exclude=exclude, using=using)
