"""How the parsing process hands batches to the writer (``intake.producer.Producer``): at most
``AHEAD`` batches wait as objects in the writer's process; the next one is read off the pipe
(unpickled) only once the writer has taken one. Every batch still arrives, in order."""

from __future__ import annotations

import pickle
import sys
import time
from pathlib import Path
from typing import Any

from wellcheck.intake import producer
from wellcheck.intake.testing import parse_job

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from gen_sandiego import generate  # noqa: E402


class _CountingPickle:
    """``pickle`` as the producer module uses it, counting the batches unpickled (the writer's
    receiving thread) in this process."""

    HIGHEST_PROTOCOL = pickle.HIGHEST_PROTOCOL

    def __init__(self) -> None:
        self.loads_count = 0

    def dumps(self, obj: Any, protocol: int | None = None) -> bytes:
        return pickle.dumps(obj, protocol=protocol)

    def loads(self, data: bytes) -> Any:
        self.loads_count += 1
        return pickle.loads(data)  # noqa: S301 (our own child)


def _settled(counter: _CountingPickle, at_least: int) -> int:
    """The count once it has reached ``at_least`` (within 20 s, however slow the machine) and
    then stayed put for a second (the child is ahead, the writer takes nothing)."""
    deadline = time.monotonic() + 20
    while counter.loads_count < at_least and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)
    return counter.loads_count


def test_a_batch_not_taken_stays_pickled(tmp_path: Path, monkeypatch: Any) -> None:
    path = generate(3000, tmp_path / "gen.csv")
    counter = _CountingPickle()
    monkeypatch.setattr(producer, "pickle", counter)
    source = producer.Producer(parse_job(path))
    source.start()
    try:
        # 30 batches are ready in the child, and the writer takes none: only AHEAD of them
        # are unpickled here (the rest wait, pickled, in the pipe and the child).
        assert _settled(counter, producer.AHEAD) == producer.AHEAD
        first = source.get()
        assert isinstance(first, producer.Batch)
        assert _settled(counter, producer.AHEAD + 1) == producer.AHEAD + 1  # one more read
        rows, batches = first.consumed, 1
        while True:
            item = source.get()
            if isinstance(item, producer.End):
                break
            assert isinstance(item, producer.Batch)
            batches += 1
            rows = item.consumed
        assert (batches, rows, item.consumed) == (30, 3000, 3000)
    finally:
        source.close()
