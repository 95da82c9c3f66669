"""hard_swish lowerings (being written)."""
