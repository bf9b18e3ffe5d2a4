"""Migration operations that only mean something on PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import ProjectState


class AddIndexOnPostgres(migrations.AddIndex):
    """``AddIndex`` whose index exists on PostgreSQL only (a GIN trigram index).

    The model state always has it, so ``makemigrations`` stays quiet; SQLite has no GIN
    and searches its small tables without it.
    """

    def database_forwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)

    def describe(self) -> str:
        return f"{super().describe()} (PostgreSQL only)"

    def deconstruct(self) -> tuple[str, Sequence[Any], dict[str, Any]]:
        _name, args, kwargs = super().deconstruct()
        return self.__class__.__name__, args, kwargs
