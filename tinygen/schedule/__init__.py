"""The schedule IR (ir.py) and its construction from the kernel calls (lower.py)."""
