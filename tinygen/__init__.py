"""tinygen: TFLite int8 models to static, bit-exact C for microcontrollers."""

__version__ = "0.1.0"
