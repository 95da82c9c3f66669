"""depthwise lowerings (being written)."""
