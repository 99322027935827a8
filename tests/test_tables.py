"""The bounded tables: capacity is a ceiling, and the eviction order is the one documented."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from patternlimit._tables import BoundedTable, SegmentedTable, remember


def test_fifo_evicts_the_oldest_insertion_even_when_it_was_read() -> None:
    table: BoundedTable[int, str] = BoundedTable(2)
    table.put(1, "a")
    table.put(2, "b")
    assert table.get(1) == "a"
    table.put(3, "c")
    assert 1 not in table and table.items() == [(2, "b"), (3, "c")]


def test_lru_evicts_the_entry_touched_longest_ago() -> None:
    table: BoundedTable[int, str] = BoundedTable(2, order="used")
    table.put(1, "a")
    table.put(2, "b")
    assert table.get(1) == "a"
    table.put(3, "c")
    assert 2 not in table and table.items() == [(1, "a"), (3, "c")]


def test_zero_capacity_keeps_nothing_and_negative_is_refused() -> None:
    table: BoundedTable[int, int] = BoundedTable(0)
    table.put(1, 1)
    assert len(table) == 0 and table.get(1) is None
    with pytest.raises(ValueError, match="capacity"):
        BoundedTable(-1)


def test_setdefault_makes_once() -> None:
    table: BoundedTable[int, list[int]] = BoundedTable(4, order="used")
    table.setdefault(7, list).append(1)
    table.setdefault(7, list).append(2)
    assert table.get(7) == [1, 2]


def test_written_order_renews_on_write_only() -> None:
    table: BoundedTable[int, str] = BoundedTable(2, order="written")
    table.put(1, "a")
    table.put(2, "b")
    table.get(1)
    table.put(2, "B")
    table.put(3, "c")
    assert table.items() == [(2, "B"), (3, "c")]
    with pytest.raises(ValueError, match="order"):
        BoundedTable(2, order="random")  # type: ignore[arg-type]


@given(
    st.integers(0, 8),
    st.lists(st.tuples(st.integers(0, 20), st.booleans()), max_size=200),
    st.sampled_from(["inserted", "written", "used"]),
)
def test_never_above_capacity_and_matches_a_plain_model(
    capacity: int, steps: list[tuple[int, bool]], order: str
) -> None:
    table: BoundedTable[int, int] = BoundedTable(capacity, order=order)  # type: ignore[arg-type]
    model: list[int] = []  # keys, oldest first
    for key, write in steps:
        if write:
            if key in model:
                if order != "inserted":
                    model.remove(key)
                    model.append(key)
            elif capacity:
                if len(model) >= capacity:
                    model.pop(0)
                model.append(key)
            table.put(key, key)
        else:
            assert (table.get(key) is not None) == (key in model)
            if order == "used" and key in model:
                model.remove(key)
                model.append(key)
        assert len(table) <= capacity
        assert [key for key, _ in table.items()] == model


def test_remember_empties_a_full_cache() -> None:
    cache: dict[str, int] = {}
    for index in range(5):
        assert remember(cache, str(index), index, 3) == index
    assert len(cache) <= 3 and cache["4"] == 4


def test_renew_moves_a_written_entry_and_ignores_a_missing_one() -> None:
    table: BoundedTable[int, list[int]] = BoundedTable(2, order="written")
    table.put(1, [1])
    table.put(2, [2])
    assert table.renew(1, [1]) is True and table.renew(9, [9]) is False
    table.put(3, [3])
    assert [key for key, _ in table.items()] == [1, 3]  # 1 was renewed, so 2 was the oldest write


def test_segmented_table_keeps_protected_entries_through_a_flood_of_new_ones() -> None:
    table: SegmentedTable[int, str] = SegmentedTable(10)
    for key in range(5):
        table.put(key, "caught")
        assert table.protect(key)
    for key in range(100, 10_000):  # one-shot keys: they churn probation only
        table.put(key, "one-shot")
        assert len(table) <= 10
    assert all(table.get(key) == "caught" for key in range(5))
    assert table.protected == 5 and len(table) == 10


def test_segmented_table_demotes_the_least_recently_used_protected_entry_when_that_segment_is_full() -> None:
    table: SegmentedTable[int, int] = SegmentedTable(4)  # two protected places
    for key in range(3):
        table.put(key, key)
        table.protect(key)
    assert not table.is_protected(0) and 0 in table  # demoted to probation, not dropped
    assert table.is_protected(1) and table.is_protected(2)
    table.put(9, 9)
    table.put(8, 8)  # probation is full: its least recently used (0) goes first
    assert 0 not in table and len(table) == 4


def test_segmented_table_protect_of_a_missing_key_does_nothing_and_pop_finds_either_segment() -> None:
    table: SegmentedTable[int, int] = SegmentedTable(4)
    assert not table.protect(1)
    table.put(1, 1)
    table.put(2, 2)
    table.protect(2)
    assert table.pop(1) == 1 and table.pop(2) == 2 and table.pop(3) is None and not table
    with pytest.raises(ValueError, match="capacity"):
        SegmentedTable(-1)
    with pytest.raises(ValueError, match="protected_share"):
        SegmentedTable(4, protected_share=1.0)


@given(st.lists(st.tuples(st.sampled_from(["put", "get", "protect", "pop"]), st.integers(0, 20)), max_size=200))
def test_segmented_table_never_exceeds_capacity_and_agrees_with_a_dict_on_what_it_holds(
    operations: list[tuple[str, int]],
) -> None:
    table: SegmentedTable[int, int] = SegmentedTable(6)
    for operation, key in operations:
        if operation == "put":
            table.put(key, key * 2)
        elif operation == "get":
            assert table.get(key) in (None, key * 2)
        elif operation == "protect":
            table.protect(key)
        else:
            table.pop(key)
        assert len(table) <= 6 and table.protected <= 3
        assert sorted(table) == sorted(k for k, _ in table.items())


@given(st.lists(st.integers(0, 30), max_size=60), st.lists(st.integers(0, 30), max_size=20))
def test_intersection_is_the_keys_held_in_either_segment(puts: list[int], asked: list[int]) -> None:
    tables: list[BoundedTable[int, int] | SegmentedTable[int, int]] = [BoundedTable(8, order="used"), SegmentedTable(8)]
    for table in tables:
        for index, key in enumerate(puts):
            table.put(key, key)
            if index % 3 == 0 and isinstance(table, SegmentedTable):
                table.protect(key)
        assert table.intersection(asked) == {key for key in asked if key in table}
