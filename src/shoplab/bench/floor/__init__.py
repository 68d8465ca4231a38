"""The floor: the orchestrated saga's message graph with no chassis, for scale.

The same hops as an order in shoplab's microservices, written on the bare libraries:
bare Starlette on uvicorn for the one HTTP request, nats-py for JetStream, ``sqlite3`` for
a file per process. No gateway, no tokens, no outbox, no tracing, no ORM::

    client --POST /orders--> orders --ReserveStock--> inventory
    orders <--StockReserved-- inventory
    orders --ChargePayment--> payments
    orders <--PaymentCharged-- payments
    orders --CommitStock--> inventory
    orders --OrderApproved--> notifications

Each process commits one transaction per fetched batch (its effects and an inbox row per
message, so a redelivery changes nothing), publishes what follows with each message's id
for the broker's de-duplication, waits for the broker's acknowledgements, then acks what it
consumed. Every order is approved: the floor has no stock to run out of and no card to
decline. What shoplab costs above this graph is what its chassis costs.

The processes import nothing from shoplab but ``shoplab.bench.floor.common``; an import
contract says so.
"""
