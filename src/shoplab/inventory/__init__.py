"""The inventory context."""
