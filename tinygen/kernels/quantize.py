"""quantize lowerings (being written)."""
