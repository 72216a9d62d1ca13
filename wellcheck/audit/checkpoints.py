"""Creating and exporting signed checkpoints of the audit chain.

A checkpoint states "the log had N events and this Merkle root" under the Ed25519 key kept in a
file. Exported off the database (``audit checkpoint --export``) and kept elsewhere, checkpoints
make a cut-off tail or a rewritten chain detectable by ``audit verify``.
"""

from __future__ import annotations

from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone

from wellcheck.audit.chain import lock_chain
from wellcheck.audit.merkle import Frontier
from wellcheck.audit.models import AuditArchive, AuditCheckpoint
from wellcheck.audit.signing import Checkpoint, key_hash, load_private_key, origin, sign

BATCH = 20_000


def _start() -> tuple[Frontier, str]:
    """The newest known frontier: the last checkpoint's, or the last archive's, or empty."""
    last = AuditCheckpoint.objects.order_by("-tree_size").first()
    archive = AuditArchive.objects.order_by("-last_seq").first()
    if last is not None and (archive is None or last.tree_size >= archive.last_seq):
        return Frontier.from_json(last.tree_size, last.frontier), last.last_row_hash
    if archive is not None:
        return Frontier.from_json(archive.last_seq, archive.frontier), archive.last_hash
    return Frontier(), ""


def checkpoint_create(*, up_to: int | None = None) -> AuditCheckpoint | None:
    """Sign a checkpoint at the chain's tail (or at ``up_to``). None if nothing new to sign.

    Serialised with appends (same lock), so the tree size and the root describe committed events.
    """
    with transaction.atomic():
        lock_chain()
        frontier, last_hash = _start()
        with connection.cursor() as cursor:
            while True:
                limit = BATCH if up_to is None else min(BATCH, up_to - frontier.size)
                if limit <= 0:
                    break
                cursor.execute(
                    "SELECT seq, row_hash FROM audit_auditevent WHERE seq > %s "
                    "ORDER BY seq LIMIT %s",
                    [frontier.size, limit],
                )
                rows = cursor.fetchall()
                for seq, row_hash in rows:
                    if seq != frontier.size + 1:
                        raise RuntimeError(
                            f"audit chain has a gap before event {seq}: run `wellcheck audit "
                            "verify` before signing"
                        )
                    frontier.append(bytes.fromhex(row_hash))
                    last_hash = row_hash
                if len(rows) < limit:
                    break
        if frontier.size == 0 or AuditCheckpoint.objects.filter(tree_size=frontier.size).exists():
            return None
        point = Checkpoint(
            origin=origin(),
            tree_size=frontier.size,
            root=frontier.root(),
            head=bytes.fromhex(last_hash),
        )
        key = load_private_key()
        note = sign(point, key)
        return AuditCheckpoint.objects.create(
            tree_size=frontier.size,
            root_hash=point.root.hex(),
            last_row_hash=last_hash,
            frontier=frontier.to_json(),
            key_id=key_hash(point.origin, key.public_key()).hex(),
            note=note,
            signed_at=timezone.now(),
        )


def export_checkpoints(path: Path, *, since_size: int = 0) -> int:
    """Write every checkpoint note (oldest first) to ``path``; returns how many.

    The file is a sequence of signed notes separated by a line holding only ``---``. Keep copies
    outside the database host (a write-once share, a printout, another agency).
    """
    notes = list(
        AuditCheckpoint.objects.filter(tree_size__gt=since_size).values_list("note", flat=True)
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text("---\n".join(notes), encoding="utf-8")
    tmp.replace(path)
    return len(notes)


def read_exported(path: Path) -> list[str]:
    """The notes of an exported checkpoint file."""
    text = path.read_text(encoding="utf-8")
    return [chunk for chunk in text.split("---\n") if chunk.strip()]
