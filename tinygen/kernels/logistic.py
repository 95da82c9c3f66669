"""logistic lowerings (being written)."""
