"""The MACs audit.v1 holds of one chain's records, by seq, kept compactly.

`qyzmet audit verify` reads the whole topic and keeps, per chain, the MAC of every published
record (evidence between anchors). As a dict of strings that cost ~200 bytes a record: a year of a
busy installation's records (tens of millions) would need gigabytes. A record's MAC is an
HMAC-SHA256 in hex, and a chain's seqs run 1, 2, 3, ..., so a MAC is kept as its 32 bytes in slot
seq - 1 of one array, with a byte saying whether the slot holds one: 33 bytes a record. The array
only grows while it stays dense (at most twice the records it holds, plus `_SLACK` slots), so no
message - a forged one with a huge seq among them - can make it large; what does not fit (such a
seq, a MAC that is not 64 lowercase hex digits) is kept as text apart, as is a second, differing
MAC for a seq (it proves a rewrite). A topic whose first records were deleted (it keeps them for
ever here) would be kept apart, as text: correct, only not compact.
"""

from __future__ import annotations

from collections.abc import Iterator

_MAC_BYTES = 32
_SLACK = 4096
"""Slots the array may hold beyond twice its records (records read out of order, small gaps)."""


class ChainMacs:
    def __init__(self) -> None:
        self._macs = bytearray()
        self._held = bytearray()
        """Slot seq - 1: 1 where `_macs` holds that seq's MAC."""
        self._apart: dict[int, str] = {}
        self.others: dict[int, set[str]] = {}
        """Seq -> MACs published for it besides the first one (a rewrite)."""
        self.count = 0
        """Distinct seqs published."""
        self.last = 0
        """The highest seq published (0: none)."""

    def add(self, seq: int, mac: str) -> None:
        kept = self.mac(seq)
        if kept is None:
            self._store(seq, mac)
            self.count += 1
            self.last = max(self.last, seq)
        elif kept != mac:
            self.others.setdefault(seq, set()).add(mac)

    def mac(self, seq: int) -> str | None:
        """The first MAC published for `seq` (None: none was)."""
        apart = self._apart.get(seq)
        if apart is not None:
            return apart
        slot = seq - 1
        if 0 <= slot < len(self._held) and self._held[slot]:
            return self._macs[slot * _MAC_BYTES : (slot + 1) * _MAC_BYTES].hex()
        return None

    def hashes(self, seq: int) -> set[str]:
        mac = self.mac(seq)
        return set() if mac is None else {mac, *self.others.get(seq, ())}

    @property
    def first(self) -> int:
        """The lowest seq published (0: none)."""
        slot = self._held.find(1)
        return min([*([slot + 1] if slot >= 0 else []), *self._apart], default=0)

    @property
    def by_seq(self) -> dict[int, str]:
        """Every seq's first MAC, as a dict (for a small chain: this is what the array saves)."""
        return dict(self._items())

    def _items(self) -> Iterator[tuple[int, str]]:
        for slot, held in enumerate(self._held):
            if held:
                yield slot + 1, self._macs[slot * _MAC_BYTES : (slot + 1) * _MAC_BYTES].hex()
        yield from self._apart.items()

    def _store(self, seq: int, mac: str) -> None:
        raw = _digest(mac)
        slot = seq - 1
        arrayed = self.count - len(self._apart)  # `add` counts this seq after storing it
        dense = slot < len(self._held) or slot < 2 * (arrayed + 1) + _SLACK
        if raw is None or slot < 0 or not dense:
            self._apart[seq] = mac
            return
        if slot >= len(self._held):
            grow = slot + 1 - len(self._held)
            self._macs.extend(bytes(grow * _MAC_BYTES))
            self._held.extend(bytes(grow))
        self._macs[slot * _MAC_BYTES : (slot + 1) * _MAC_BYTES] = raw
        self._held[slot] = 1

    @property
    def size_bytes(self) -> int:
        """The arrays' length (what the records kept in them cost)."""
        return len(self._macs) + len(self._held)


def _digest(mac: str) -> bytes | None:
    """The 32 bytes of a MAC in the canonical form (64 lowercase hex digits), else None."""
    if len(mac) != 2 * _MAC_BYTES:
        return None
    try:
        raw = bytes.fromhex(mac)
    except ValueError:
        return None
    return raw if raw.hex() == mac else None
