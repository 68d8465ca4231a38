"""The operator's tools on a run: its dead letters, fault orders, traces, logs, order
history, signing keys and a Prometheus configuration.

They read the run's data folder and state file, or ask its broker or its services;
they start and stop nothing (that is ``runtime``, the supervisor). The ``shoplab``
command (``cli``) parses and prints; the work is done here, and every broker
request goes through the messaging seam (``platform.messaging.brokers``).
"""
