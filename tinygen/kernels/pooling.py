"""pooling lowerings (being written)."""
