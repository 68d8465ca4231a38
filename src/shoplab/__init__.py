"""shoplab: a runnable reference system for learning microservices architecture."""
