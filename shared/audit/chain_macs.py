"""The MACs audit.v1 holds of one chain's records, by seq, kept compactly.

`qyzmet audit verify` reads the whole topic and keeps, per chain, the MAC of every published
record (evidence between anchors). As a dict of strings that cost ~200 bytes a record: a year of a
busy installation's records (tens of millions) would need gigabytes. A record's MAC is an
HMAC-SHA256 in hex, so it is kept as its 32 bytes in one array indexed by seq (a chain's seqs are
dense: 1, 2, 3, ...), with a byte saying whether the slot holds one: 33 bytes a record. What does
not fit that form - a MAC that is not 64 lowercase hex digits, a seq far beyond the chain's last
(a forged message must not make the array huge) - is kept as text apart, as is a second, differing
MAC for a seq (it proves a rewrite).
"""

from __future__ import annotations

from collections.abc import Iterator

_MAC_BYTES = 32
_FAR = 1 << 20
"""A seq this far beyond the array's end is kept apart rather than growing the array to reach it."""


class ChainMacs:
    def __init__(self) -> None:
        self._base = 0
        """The seq of slot 0 (0: no slot yet)."""
        self._macs = bytearray()
        self._held = bytearray()
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
        slot = seq - self._base
        if self._base and 0 <= slot < len(self._held) and self._held[slot]:
            return self._macs[slot * _MAC_BYTES : (slot + 1) * _MAC_BYTES].hex()
        return None

    def hashes(self, seq: int) -> set[str]:
        mac = self.mac(seq)
        return set() if mac is None else {mac, *self.others.get(seq, ())}

    @property
    def first(self) -> int:
        """The lowest seq published (0: none)."""
        return min(
            [slot + self._base for slot in (self._held.find(1),) if slot >= 0] + list(self._apart),
            default=0,
        )

    @property
    def by_seq(self) -> dict[int, str]:
        """Every seq's first MAC, as a dict (for a small chain: this is what the array saves)."""
        return dict(self._items())

    def _items(self) -> Iterator[tuple[int, str]]:
        for slot, held in enumerate(self._held):
            if held:
                yield self._base + slot, self._macs[slot * _MAC_BYTES : (slot + 1) * _MAC_BYTES].hex()
        yield from self._apart.items()

    def _store(self, seq: int, mac: str) -> None:
        raw = _digest(mac)
        if raw is None or seq < 1:
            self._apart[seq] = mac
            return
        if not self._base:
            self._base = seq
        if seq < self._base:  # an earlier record read after later ones (another partition's order)
            if self._base - seq > _FAR:
                self._apart[seq] = mac
                return
            shift = self._base - seq
            self._macs[0:0] = bytes(shift * _MAC_BYTES)
            self._held[0:0] = bytes(shift)
            self._base = seq
        slot = seq - self._base
        if slot >= len(self._held):
            if slot - len(self._held) > _FAR:
                self._apart[seq] = mac
                return
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
