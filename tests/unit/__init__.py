"""Unit tests: the pure domain of each context, no I/O."""
