"""Unit tests: the pure domain of each context, and its service layer on fakes; no I/O."""
