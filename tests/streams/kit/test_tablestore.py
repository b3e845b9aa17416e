"""The table store on a faust memory table: values keep their partition, changes wait."""

from __future__ import annotations

import faust
import pytest

from monitor.snapshot import next_change_of
from streams.kit.tablestore import Armed, TableStore


@pytest.fixture
def table() -> object:
    app = faust.App("kit-tablestore", store="memory://", web_enabled=False)
    return app.Table("state", partitions=4, key_type=bytes, value_type=bytes)


def due_in_first_byte(stored: bytes) -> int | None:
    return stored[0] or None


def test_a_value_reads_back_without_its_partition_and_is_armed_on_it(table: object) -> None:
    store = TableStore(table, due_in_first_byte)
    store.partition = 2
    store["A"] = bytes([7]) + b"snapshot A"
    store.partition = 0
    store["B"] = bytes([0]) + b"snapshot B"
    assert store["A"] == bytes([7]) + b"snapshot A"
    assert sorted(store) == ["A", "B"] and len(store) == 2
    assert sorted(store.armed()) == [Armed(0, "B", None), Armed(2, "A", 7)]
    with pytest.raises(KeyError):
        store["C"]


def test_changes_wait_by_partition_until_taken_deletes_as_tombstones(table: object) -> None:
    store = TableStore(table, due_in_first_byte)
    store.partition = 1
    store["A"] = b"\x01one"
    store["A"] = b"\x01two"  # the latest write is the record
    store.partition = 3
    store["B"] = b"\x01three"
    del store["B"]
    changes = store.take_changes()
    assert changes == {1: {b"A": b"\x00\x00\x00\x01\x01two"}, 3: {b"B": None}}
    assert store.take_changes() == {} and "B" not in store


def test_a_case_snapshot_is_armed_for_its_next_change(table: object) -> None:
    store = TableStore(table, next_change_of)
    store["A"] = (1_234).to_bytes(8, "big") + b"{}"  # a snapshot's next-change prefix
    assert list(store.armed()) == [Armed(0, "A", 1_234)]
