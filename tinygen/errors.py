"""Errors the user can act on.

Every failure caused by the user's input (a model, a board file, options) raises a TinygenError.
The CLI prints its message as one line and exits with EXIT_CODE; anything else is a bug in tinygen.
"""

EXIT_CODE = 2


class TinygenError(Exception):
    """Base of all errors reported to the user as one line."""

    kind = "error"

    def one_line(self) -> str:
        text = " ".join(str(self).split())
        return f"tinygen: {self.kind}: {text}"


class ModelFormatError(TinygenError):
    """The file is not a readable TFLite flatbuffer (wrong magic, truncated, bad offsets)."""

    kind = "model format"


class UnsupportedModelError(TinygenError):
    """A valid TFLite model that tinygen cannot compile (float model, dynamic shapes, ops)."""

    kind = "unsupported model"


class InvalidModelError(TinygenError):
    """A model whose contents contradict themselves (shapes, quantization, buffer sizes)."""

    kind = "invalid model"


class PlanError(TinygenError):
    """The model does not fit the board's memory or the planner's limits."""

    kind = "plan"


class BoardError(TinygenError):
    """An unknown board or an invalid board file."""

    kind = "board"


class BuildError(TinygenError):
    """The toolchain failed or is missing."""

    kind = "build"


class DeviceError(TinygenError):
    """The board (emulated or real) did not answer as the serial protocol requires."""

    kind = "device"


class InputError(TinygenError):
    """Input tensors given by the user do not match the model."""

    kind = "input"
