"""A batch of events by partition, and table writes pointed at one event's partition."""

from __future__ import annotations

from dataclasses import dataclass

from faust.streams import current_event

from streams.kit.batches import by_partition, writing_for


@dataclass
class Message:
    partition: int
    offset: int


class Event:  # faust's Event, as far as these read it (and weakly referable)
    def __init__(self, message: Message) -> None:
        self.message = message


def an_event(partition: int, offset: int) -> Event:
    return Event(Message(partition, offset))


def test_events_are_grouped_by_partition_in_their_order() -> None:
    events = [an_event(1, 10), an_event(0, 5), an_event(1, 11), an_event(0, 6)]
    groups = by_partition(events)
    assert {p: [e.message.offset for e in g] for p, g in groups.items()} == {1: [10, 11], 0: [5, 6]}


def test_writes_inside_go_to_the_event_given_and_the_current_one_comes_back() -> None:
    first, last = an_event(0, 1), an_event(3, 2)
    before = current_event()
    with writing_for(first):
        assert current_event() is first
        with writing_for(last):
            assert current_event() is last
        assert current_event() is first
    assert current_event() is before
