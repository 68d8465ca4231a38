"""The modular monolith: every context in one process and one database.

This package is a composition root: the only place that imports several
contexts. It wires each context's ports to the others with in-process calls.
"""
