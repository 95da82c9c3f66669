"""The one exception an operator parser or type check raises: collected, then reported together."""


class Unsupported(Exception):
    """One operator tinygen cannot compile; the message says why."""
