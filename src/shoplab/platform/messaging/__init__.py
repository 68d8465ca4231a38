"""Messaging: the broker seam, its adapters, the outbox, the inbox and the relay."""
