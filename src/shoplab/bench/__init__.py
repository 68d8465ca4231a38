"""``shoplab bench``: the same seeded workload through each mode, measured in one run.

The runner starts each mode fresh (``system``), drives it with its own asyncio client
(``driver``), reads every process's CPU and memory (``resources``), checks the invariants
after the run, and measures the baselines that give the figures meaning: raw JetStream
(``jetstream``) and the gateway's added latency (``gateway``). ``report`` prints the table
and the ratios; ``chart`` draws them. ``bench/locustfile.py`` runs the same workload under
Locust for interactive use.
"""
