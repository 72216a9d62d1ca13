"""RFC 6962 Merkle tree hashing (section 2.1), computed incrementally with a frontier.

Leaf hash ``SHA-256(0x00 || data)``, node hash ``SHA-256(0x01 || left || right)``, the empty tree
``SHA-256("")``. The leaves of the audit log are the 32 raw bytes of each event's ``row_hash``.

A :class:`Frontier` keeps the roots of the perfect subtrees that make up the first ``size``
leaves (largest first). Folding them from the right gives exactly RFC 6962's ``MTH`` for that
size, so the root at any size is available while streaming the leaves once, and a frontier saved
with a checkpoint or an archive lets the tree grow without the earlier leaves.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


class Frontier:
    """The compact state of a growing RFC 6962 tree."""

    __slots__ = ("size", "_nodes")

    def __init__(self, size: int = 0, nodes: Iterable[bytes] = ()) -> None:
        self.size = size
        # (subtree root, subtree size) largest first; sizes are the binary digits of ``size``.
        self._nodes: list[tuple[bytes, int]] = []
        remaining = size
        for node in nodes:
            width = 1 << (remaining.bit_length() - 1)
            self._nodes.append((node, width))
            remaining -= width
        if remaining:
            raise ValueError(f"frontier does not describe a tree of {size} leaves")

    def append_leaf_hash(self, leaf: bytes) -> None:
        node, width = leaf, 1
        nodes = self._nodes
        while nodes and nodes[-1][1] == width:
            left, _ = nodes.pop()
            node = node_hash(left, node)
            width *= 2
        nodes.append((node, width))
        self.size += 1

    def append(self, data: bytes) -> None:
        self.append_leaf_hash(leaf_hash(data))

    def append_subtree(self, node: bytes, width: int) -> None:
        """Add the root of a perfect subtree of ``width`` leaves that starts at ``size``
        (``width`` a power of two no larger than the lowest set bit of ``size``)."""
        if width & (width - 1) or (self.size and width > self.size & -self.size):
            raise ValueError(f"a subtree of {width} leaves cannot start at leaf {self.size}")
        nodes = self._nodes
        size = width
        while nodes and nodes[-1][1] == width:
            left, _ = nodes.pop()
            node = node_hash(left, node)
            width *= 2
        nodes.append((node, width))
        self.size += size

    def extend_leaf_hashes(self, leaves: Sequence[bytes]) -> None:
        """Append many leaf hashes at once: whole aligned subtrees are hashed level by level
        (one list comprehension per level) instead of leaf by leaf. Same tree, faster."""
        done, count = 0, len(leaves)
        while done < count:
            low = self.size & -self.size or 1 << 62
            width = min(low, 1 << ((count - done).bit_length() - 1))
            self.append_subtree(subtree_root(leaves[done : done + width]), width)
            done += width

    def root(self) -> bytes:
        if not self._nodes:
            return EMPTY_ROOT
        root = self._nodes[-1][0]
        for node, _ in reversed(self._nodes[:-1]):
            root = node_hash(node, root)
        return root

    def nodes(self) -> list[bytes]:
        return [node for node, _ in self._nodes]

    def to_json(self) -> list[str]:
        return [node.hex() for node in self.nodes()]

    @classmethod
    def from_json(cls, size: int, nodes: Iterable[str]) -> Frontier:
        return cls(size, [bytes.fromhex(n) for n in nodes])

    def copy(self) -> Frontier:
        twin = Frontier()
        twin.size = self.size
        twin._nodes = list(self._nodes)
        return twin


def subtree_root(leaves: Sequence[bytes]) -> bytes:
    """Root of the perfect subtree over ``leaves`` (leaf hashes; a power of two of them)."""
    nodes = list(leaves)
    sha = hashlib.sha256
    while len(nodes) > 1:
        pairs = iter(nodes)
        nodes = [sha(b"\x01" + a + b).digest() for a, b in zip(pairs, pairs, strict=False)]
    return nodes[0]


def merkle_root(leaves: Iterable[bytes]) -> bytes:
    """``MTH(D[n])`` of the given leaf data."""
    frontier = Frontier()
    for data in leaves:
        frontier.append(data)
    return frontier.root()
