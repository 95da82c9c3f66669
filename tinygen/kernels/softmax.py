"""softmax lowerings (being written)."""
