"""mean lowerings (being written)."""
