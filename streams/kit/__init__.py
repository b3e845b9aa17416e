"""The worker kit: the parts of a stateful faust-streaming app that are not its logic.

`redline worker` (``streams/app.py``) is built from them, and so is any second app that keeps
state per key in a table and acts on timers (the notifier). One module per part:

- ``batches``: a batch of events grouped by partition, and table writes pointed at the right
  partition's store (``by_partition``, ``writing_for``).
- ``tablestore``: ``TableStore``, a faust table as a ``MutableMapping[str, bytes]`` whose values
  remember their partition, with the changelog records held back for the batch.
- ``publisher``: ``BatchPublisher``, records to one partition as whole Kafka batches with their
  delivery futures, and ``TableChangelog``, a store's changes sent the same way and the table's
  persisted offsets kept.
- ``timers``: ``Timers``, the next due instant of every key a worker owns, in one-second
  buckets per partition.
- ``ticker``: ``Ticker``, the task that turns due keys into ticks just after each whole second.
- ``rebalance``: the post-rebalance seek fixes (``install_seek_fixes``) and the timers re-armed
  from the store after each rebalance (``rearm_after_rebalance``).

A second app, in outline (its own topics, table and logic)::

    install_seek_fixes(app)
    table = app.Table("notices", partitions=n, key_type=bytes, value_type=bytes)
    store, timers = TableStore(table, due_of), Timers()
    publisher = BatchPublisher.of(app)
    changelog = TableChangelog(publisher, table)
    rearm_after_rebalance(app, source_topic, timers, store)
    app.task(Ticker(timers, send_tick).run)

    @app.agent(source)
    async def handle(stream):
        async for events in stream.take_events(BATCH, within=WAIT_S):
            for partition, group in by_partition(events).items():
                store.partition = partition
                with writing_for(group[-1]):
                    ...  # the app's logic: reads and writes ``store``, arms ``timers``
            deliveries = [...]  # await publisher.publish(topic, partition, records), each
            sent = await changelog.publish(store.take_changes())
            for changes in sent.values():
                deliveries += changes
            await asyncio.gather(*(delivery.future for delivery in deliveries))
            changelog.mark_persisted(sent)  # then faust acknowledges the batch
"""
