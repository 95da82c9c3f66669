"""concatenation lowerings (being written)."""
