"""Alert webhooks (Standard Webhooks): subscriptions, the dispatcher and its operations.

    subscriptions.py  the sources file's ``subscriptions:`` → the ``subscriptions`` table,
                      and the operations on them the CLI and the API share
    policy.py         pure: what an answer means, retry schedule, circuit breaker
    payload.py        the JSON body and its Standard Webhooks signature
    transport.py      the dispatcher's HTTP client, on services.guarded_http (the SSRF
                      guard every outbound request shares, services.netguard)
    send.py           one signed POST → an ``Outcome``
    queue.py          the ``deliveries`` outbox: claim, record, release, requeue
    slots.py          which claimed deliveries may be sent now (per-subscription limits)
    dispatcher.py     the ``dispatch`` role
    metrics.py        in-process counters of one dispatcher (the benchmark reads them)
    commands.py       ``drawdown deliveries | redeliver | ping | subscriptions``, and the
                      delivery reports and requeues the API serves too

Deliveries are written by processor.fanout in the processor's transaction.
"""
