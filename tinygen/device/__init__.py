"""Talking to a board running tinygen firmware: the serial protocol, QEMU, and a session."""
