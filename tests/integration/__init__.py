"""Integration tests: the chassis and the service layers on real databases."""
