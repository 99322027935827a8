"""The bounded tables: capacity is a ceiling, and the eviction order is the one documented."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from patternlimit._tables import BoundedTable, remember


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
