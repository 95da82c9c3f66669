"""tinygen's local PlatformIO dev-platform: no packages, the system's cross toolchains."""

from platformio.public import PlatformBase


class TinygenPlatform(PlatformBase):
    pass
