"""Wrapping generated model code into something a toolchain builds: firmware, PlatformIO, Arduino."""
