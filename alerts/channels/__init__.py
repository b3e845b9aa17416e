"""The channels a notice goes out on, one shape for all (SPEC §5.2 and the vendors' robots).

A channel is two pure functions: :meth:`Channel.request` makes the HTTP request the vendor
expects for a receiver and a message (signed where the vendor signs), and :meth:`Channel.read`
reads its answer as an :class:`~alerts.channels.base.Outcome`: sent, retryable (with the wait
the vendor asked for, if any) or permanent, with the vendor's code and message.
:func:`~alerts.channels.send.send` does the I/O with httpx. No secret ever appears in an
outcome: a robot's URL is its credential, so failures name the receiver, never its address.

- ``webhook``: SPEC §5.2 (``Idempotency-Key``, ``X-Redline-Signature``);
- ``robots``: DingTalk custom robot, WeCom group robot, Feishu custom bot.
"""
