"""The local runtime: the supervisor behind ``shoplab up``, its plans and state file,
the ports, the embedded broker, scaling and health probes. It starts, watches and stops
the processes of a run; the tools that inspect a run live in ``operations``."""
