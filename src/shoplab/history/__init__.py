"""The order history: a read model of every customer's orders, built from events (CQRS)."""
