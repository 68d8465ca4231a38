"""The orders context."""
