"""The timer index: due cases come out once, at their instant, and idle ticks cost nothing."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from streams.kit.timers import PartitionTimers, Timers


def test_a_case_comes_out_at_its_instant_once() -> None:
    timers = Timers()
    timers.arm(3, "A", 100)
    timers.arm(5, "B", 105)
    assert timers.pop_due(99) == []
    assert timers.pop_due(100) == [(3, "A", 100)]
    assert timers.pop_due(104) == []
    assert timers.pop_due(200) == [(5, "B", 105)]
    assert timers.pop_due(300) == [] and len(timers) == 0


def test_re_arming_moves_a_case_and_none_disarms_it() -> None:
    timers = PartitionTimers()
    timers.arm("A", 100)
    timers.arm("A", 150)  # a suspension moved the deadline
    timers.arm("B", 120)
    timers.arm("B", None)  # the case ended
    assert timers.pop_due(149) == []
    assert timers.pop_due(150) == [("A", 150)]


def test_revoked_partitions_are_forgotten() -> None:
    timers = Timers()
    timers.arm(1, "A", 100)
    timers.arm(2, "B", 100)
    timers.revoke([1])
    assert timers.pop_due(100) == [(2, "B", 100)]


def test_an_idle_tick_touches_no_case() -> None:
    timers = PartitionTimers()
    for index in range(10_000):
        timers.arm(f"C{index}", 1_000_000 + index)
    heap = timers._heap
    timers._heap = _CountingHeap(heap)
    assert timers.pop_due(999_999) == []
    assert timers._heap.reads <= 1  # one peek, not a walk over 10 000 cases


class _CountingHeap(list[int]):
    def __init__(self, items: list[int]) -> None:
        super().__init__(items)
        self.reads = 0

    def __getitem__(self, index):  # type: ignore[no-untyped-def]
        self.reads += 1
        return super().__getitem__(index)


@given(
    plan=st.lists(
        st.tuples(st.sampled_from("ABCDEFG"), st.one_of(st.none(), st.integers(0, 50))),
        max_size=60,
    ),
    ticks=st.lists(st.integers(0, 60), max_size=10),
)
def test_pops_match_the_latest_arming(plan: list[tuple[str, int | None]], ticks: list[int]) -> None:
    timers = PartitionTimers()
    for case_id, due in plan:
        timers.arm(case_id, due)
    latest = {}
    for case_id, due in plan:
        latest[case_id] = due
    expected = {case_id: due for case_id, due in latest.items() if due is not None}
    popped: dict[str, int] = {}
    for now in [*sorted(ticks), 60]:
        for case_id, instant in timers.pop_due(now):
            assert case_id not in popped, "a case comes out once"
            assert expected[case_id] == instant <= now
            popped[case_id] = now
    assert set(popped) == set(expected)
