"""The local runtime: the supervisor behind ``shoplab up``, its state file, its plans."""
