"""Migration operations that only mean something on PostgreSQL."""

from __future__ import annotations

from django.db import connections, migrations
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model


class AddIndexOnPostgres(migrations.AddIndex):
    """``AddIndex`` whose index exists on PostgreSQL only (a GIN trigram index).

    The model state always has it, so ``makemigrations`` stays quiet; SQLite has no GIN
    and searches its small tables without it.
    """

    def allow_migrate_model(
        self, connection_alias: BaseDatabaseWrapper | str, model: type[Model]
    ) -> bool:
        # Asked by both database_forwards and database_backwards, as a router would be.
        connection = (
            connections[connection_alias] if isinstance(connection_alias, str) else connection_alias
        )
        return connection.vendor == "postgresql" and super().allow_migrate_model(
            connection_alias, model
        )

    def describe(self) -> str:
        return f"{super().describe()} (PostgreSQL only)"
