"""activations lowerings (being written)."""
