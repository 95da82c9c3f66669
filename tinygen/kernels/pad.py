"""pad lowerings (being written)."""
