"""Django's ``flush``, able to empty the append-only audit tables (tests and local resets).

The audit triggers refuse DELETE and TRUNCATE, and Django's test runner flushes the database
after every transactional test (``live_server``, ``transaction=True``). This command wraps the
built-in one in :func:`~wellcheck.audit.triggers.triggers_bypassed`, which needs a PostgreSQL
superuser: with the application's ordinary role, flushing a database that holds an audit trail
still fails, as it should.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands.flush import Command as DjangoFlush
from django.db import DEFAULT_DB_ALIAS, connections

from wellcheck.audit.triggers import triggers_bypassed


class Command(DjangoFlush):
    def handle(self, **options: Any) -> None:
        connection = connections[options.get("database") or DEFAULT_DB_ALIAS]
        with triggers_bypassed(connection):
            super().handle(**options)
