"""The local runtime: the supervisor behind ``shoplab up``, its plans and state file,
the embedded broker, and the dead-letter tools behind ``shoplab dlq``."""
