"""The NATS JetStream adapter: the only code that imports ``nats``."""
