"""``redline simulate``: a realistic load of window systems (窗口系统), for demos, tests and
benchmarks.

Each centre is a window system of its own. Cases arrive at random and live realistic lives,
measured against their real clocks; then the wire does to some of their events what real feeds
do. Everything up to the wire is pure and seeded: the same options give the same lines. Only
*when* each line goes out depends on the wall clock. One module per step:

- :mod:`.lives`: the life of one case (办件历程), also the benchmarks' feed (``bench/``);
- :mod:`.load`: which cases arrive when, at which centres, with which odds;
- :mod:`.wire`: the lines of a case, with disorder, duplicates and malformed lines;
- :mod:`.schedule`: every line in send order (:func:`~.schedule.feed`), and when it may go out
  on the wall clock (:class:`~.schedule.Schedule`);
- :mod:`.sinks`: a JSON Lines file, Kafka, or the API over HTTP;
- :mod:`.run`: a run from the first line to its summary;
- :mod:`.command`: the ``redline simulate`` options.
"""

from streams.simulate.command import simulate_command

__all__ = ["simulate_command"]
