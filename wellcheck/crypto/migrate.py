"""Helpers for data migrations that encrypt columns which held plaintext before.

Used by the migrations of ``people`` and ``checks`` that switch fields to encrypted fields: the
column type changes to text first, then each non-empty value that is not yet ciphertext is
encrypted in place, bound to its table, row and field. Rows are read and written with plain SQL
(the historical models cannot run the field code).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from wellcheck.crypto import envelope, keyring


def _norm_json(text: str) -> str:
    value = json.loads(text)
    if value in ([], {}, None):
        return ""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _norm_decimal(text: str) -> str:
    from decimal import Decimal

    return str(Decimal(text))


NORMALISERS: dict[str, Callable[[str], str]] = {
    "text": lambda t: t,
    "date": lambda t: t[:10],
    "decimal": _norm_decimal,
    "json": _norm_json,
}


def encrypt_columns(
    schema_editor: Any,
    *,
    table: str,
    pk_column: str,
    model_label: str,
    columns: dict[str, str],
    scope_of_row: Callable[[dict[str, Any]], str],
    extra_columns: tuple[str, ...] = (),
    after_row: Callable[[dict[str, Any]], dict[str, str]] | None = None,
) -> int:
    """Encrypt plaintext cells of ``columns`` (name -> kind); returns the number of rows changed."""
    conn = schema_editor.connection
    qn = conn.ops.quote_name
    names = [pk_column, *columns, *extra_columns]
    changed = 0
    with conn.cursor() as cur:
        cur.execute(f"SELECT {', '.join(qn(n) for n in names)} FROM {qn(table)}")  # noqa: S608
        rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    for row in rows:
        pk = row[pk_column]
        pk_text = str(uuid.UUID(str(pk))) if isinstance(pk, str | uuid.UUID) else str(pk)
        updates: dict[str, str] = {}
        for column, kind in columns.items():
            raw = row[column]
            if raw is None or raw == "" or envelope.is_ciphertext(str(raw)):
                continue
            plain = NORMALISERS[kind](str(raw))
            field = column[:-3] if column.endswith("_id") else column
            updates[column] = (
                envelope.encrypt(
                    plain,
                    model_label=model_label,
                    pk=pk_text,
                    field=field,
                    dek_id=keyring.current_key_id(scope_of_row(row)),
                )
                if plain
                else ""
            )
        if after_row is not None:
            updates.update(after_row(row))
        if not updates:
            continue
        sets = ", ".join(f"{qn(c)} = %s" for c in updates)
        with conn.cursor() as cur:
            cur.execute(
                f"UPDATE {qn(table)} SET {sets} WHERE {qn(pk_column)} = %s",  # noqa: S608
                [*updates.values(), pk],
            )
        changed += 1
    return changed
