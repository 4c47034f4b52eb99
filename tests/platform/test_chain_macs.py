"""The published MACs `audit verify` keeps per chain: 33 bytes a record, whatever order they come
in, with odd MACs, rewrites and forged far-away seqs kept apart (not growing the array)."""

from __future__ import annotations

import hashlib

from shared.audit.chain_macs import ChainMacs


def mac(seq: int, salt: str = "") -> str:
    return hashlib.sha256(f"{salt}{seq}".encode()).hexdigest()


def test_a_chains_macs_cost_33_bytes_a_record_and_answer_by_seq() -> None:
    macs = ChainMacs()
    for seq in range(1, 100_001):
        macs.add(seq, mac(seq))
    assert macs.size_bytes == 33 * 100_000  # a dict of strings took ~200 bytes a record
    assert (macs.count, macs.first, macs.last) == (100_000, 1, 100_000)
    assert macs.hashes(5) == {mac(5)} and macs.hashes(100_001) == set() and macs.hashes(0) == set()


def test_records_read_out_of_order_and_again_are_kept_once() -> None:
    macs = ChainMacs()
    for seq in (7, 9, 3, 8, 3, 12):  # out of order; 3 read twice; 10 and 11 never
        macs.add(seq, mac(seq))
    assert macs.by_seq == {seq: mac(seq) for seq in (3, 7, 8, 9, 12)}
    assert (macs.count, macs.first, macs.last) == (5, 3, 12)
    assert macs.hashes(10) == set()


def test_a_second_mac_for_a_seq_is_kept_apart_as_proof_of_a_rewrite() -> None:
    macs = ChainMacs()
    macs.add(4, mac(4))
    macs.add(4, mac(4, "rewritten"))
    assert macs.hashes(4) == {mac(4), mac(4, "rewritten")} and macs.count == 1


def test_macs_not_in_the_canonical_form_are_kept_as_text() -> None:
    macs = ChainMacs()
    macs.add(1, "aa")
    macs.add(2, mac(2).upper())  # would not come back the same from its bytes
    macs.add(3, mac(3))
    assert macs.by_seq == {1: "aa", 2: mac(2).upper(), 3: mac(3)}
    assert macs.size_bytes == 33 * 3 and macs.by_seq[3] == mac(3)  # slots 1-3; only 3's is held


def test_forged_far_seqs_do_not_grow_the_array_whatever_their_number_or_order() -> None:
    macs = ChainMacs()
    for n in range(1, 101):  # each far beyond the last, as the first message or after others
        macs.add(10**12 * n, mac(n, "forged"))
        macs.add(n, mac(n))
        macs.add(n * 5_000, mac(n, "beyond"))
    genuine = 33 * 100
    assert macs.size_bytes <= 2 * genuine + 33 * 4096  # dense: twice its records at most, plus slack
    assert macs.hashes(10**12 * 7) == {mac(7, "forged")} and macs.hashes(7) == {mac(7)}
    assert macs.last == 10**14 and macs.first == 1
