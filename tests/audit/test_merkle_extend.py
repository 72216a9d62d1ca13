"""Appending many leaves at once (whole aligned subtrees) builds the same RFC 6962 tree."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wellcheck.audit.merkle import Frontier, leaf_hash


@given(
    before=st.integers(0, 70),
    after=st.integers(0, 70),
    cuts=st.lists(st.integers(0, 70), max_size=4),
)
def test_extend_equals_leaf_by_leaf(before: int, after: int, cuts: list[int]) -> None:
    data = [hashlib.sha256(str(i).encode()).digest() for i in range(before + after)]
    one_by_one = Frontier()
    for item in data:
        one_by_one.append(item)
    grown = Frontier()
    for item in data[:before]:
        grown.append(item)
    leaves = [leaf_hash(item) for item in data[before:]]
    done = 0
    for cut in sorted(min(c, after) for c in cuts) + [after]:
        grown.extend_leaf_hashes(leaves[done:cut])
        done = max(done, cut)
    assert (grown.size, grown.root(), grown.to_json()) == (
        one_by_one.size,
        one_by_one.root(),
        one_by_one.to_json(),
    )


def test_a_subtree_must_be_aligned() -> None:
    tree = Frontier()
    tree.append(b"a")
    with pytest.raises(ValueError, match="cannot start"):
        tree.append_subtree(bytes(32), 2)
