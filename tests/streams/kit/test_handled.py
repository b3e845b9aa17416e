"""Which events a worker has already answered for (pure: no services)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from streams.kit.handled import HandledEvents


def test_an_event_read_again_is_seen_and_the_batch_says_how_far_it_went() -> None:
    handled = HandledEvents()
    assert [handled.seen(0, n) for n in (0, 1, 2)] == [False, False, False]
    assert handled.take_batch() == {0: 2}
    assert handled.take_batch() == {}  # taken
    assert [handled.seen(0, n) for n in (1, 2, 3)] == [True, True, False]  # read again, then new
    assert handled.take_batch() == {0: 3}


def test_offsets_stored_by_an_earlier_owner_are_adopted_the_higher_winning() -> None:
    handled = HandledEvents()
    handled.seen(1, 10)
    handled.adopt({1: 4, 2: 7})  # partition 1: ours is further; partition 2: taken over
    assert handled.seen(1, 10) and not handled.seen(1, 11)
    assert handled.seen(2, 7) and not handled.seen(2, 8)


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 50)), max_size=60))
def test_each_offset_is_answered_for_once_whatever_the_rereads(
    reads: list[tuple[int, int]],
) -> None:
    # a partition's offsets arrive in order, but may be read again from an earlier point
    handled, answered = HandledEvents(), []
    for partition, offset in sorted(reads):
        for n in range(offset + 1):  # a re-read from the start up to offset
            if not handled.seen(partition, n):
                answered.append((partition, n))
    assert len(answered) == len(set(answered))
    assert set(answered) == {(p, n) for p, top in reads for n in range(top + 1)}
