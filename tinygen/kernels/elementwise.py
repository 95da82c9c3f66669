"""elementwise lowerings (being written)."""
