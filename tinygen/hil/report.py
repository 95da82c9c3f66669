"""What `tinygen hil` found, as one object, rendered as JSON and as JUnit XML for CI.

A report is filled in as vectors finish, so that a run cut short (a dead line, Ctrl-C) still
reports every vector it completed.
"""

from __future__ import annotations

import json
import statistics
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Mismatch:
    """The first element where the board and TFLite Micro disagree."""

    output: str
    index: tuple[int, ...]       # within the output tensor
    device: int | float
    expected: int | float

    def describe(self) -> str:
        return (f"output '{self.output}' element {list(self.index)}: board {self.device}, "
                f"TFLite Micro {self.expected}")


@dataclass(frozen=True)
class VectorOutcome:
    index: int
    latency: int                 # instructions (QEMU) or cycles (real boards) of invoke()
    mismatch: Mismatch | None = None

    @property
    def bit_exact(self) -> bool:
        return self.mismatch is None


@dataclass
class HilReport:
    model: str
    board: str
    port: str
    planned: int                 # vectors in the data set
    latency_unit: str            # "instructions" or "cycles"
    vectors: list[VectorOutcome] = field(default_factory=list)
    error: str | None = None     # why the run stopped early, if it did
    interrupted: bool = False
    link: dict = field(default_factory=dict)
    line_faults: dict | None = None

    @property
    def failures(self) -> list[VectorOutcome]:
        return [v for v in self.vectors if not v.bit_exact]

    @property
    def bit_exact(self) -> bool:
        return self.error is None and not self.failures and len(self.vectors) == self.planned

    @property
    def exit_code(self) -> int:
        """0 all exact; 1 a mismatch (the news that matters most); 2 the run could not finish."""
        if self.failures:
            return 1
        return 0 if self.bit_exact else 2

    def latency(self) -> dict:
        values = [v.latency for v in self.vectors]
        if not values:
            return {"unit": self.latency_unit, "min": None, "median": None, "max": None}
        return {"unit": self.latency_unit, "min": min(values), "median": statistics.median(values), "max": max(values)}

    def to_json(self) -> dict:
        return {
            "model": self.model,
            "board": self.board,
            "port": self.port,
            "bit_exact": self.bit_exact,
            "vectors": len(self.vectors),
            "vectors_planned": self.planned,
            "passed": len(self.vectors) - len(self.failures),
            "failures": [{"vector": v.index, "output": v.mismatch.output, "index": list(v.mismatch.index),
                          "device": v.mismatch.device, "expected": v.mismatch.expected}
                         for v in self.failures if v.mismatch],
            "latency": self.latency(),
            "latency_per_vector": [v.latency for v in self.vectors],
            "link": self.link,
            "line_faults": self.line_faults,
            "error": self.error,
        }

    def summary(self) -> str:
        lat = self.latency()
        text = (f"{self.model} on {self.board}: {len(self.vectors) - len(self.failures)}/{self.planned} vectors "
                f"bit-exact with TFLite Micro")
        if lat["min"] is not None:
            text += f"; invoke() {lat['min']:,}/{lat['median']:,}/{lat['max']:,} {lat['unit']} (min/median/max)"
        if self.error:
            text += f"; stopped: {self.error}"
        return text

    def to_junit(self) -> str:
        suite = ET.Element("testsuite", name=f"tinygen.hil.{self.model}.{self.board}", tests=str(self.planned),
                           failures=str(len(self.failures)), errors=str(self.planned - len(self.vectors)))
        ET.SubElement(ET.SubElement(suite, "properties"), "property", name="port", value=self.port)
        for v in self.vectors:
            case = ET.SubElement(suite, "testcase", classname=f"{self.model}.{self.board}", name=f"vector_{v.index}")
            ET.SubElement(case, "system-out").text = f"invoke(): {v.latency} {self.latency_unit}"
            if v.mismatch:
                ET.SubElement(case, "failure", message=f"not bit-exact: {v.mismatch.describe()}", type="mismatch")
        for index in range(len(self.vectors), self.planned):
            case = ET.SubElement(suite, "testcase", classname=f"{self.model}.{self.board}", name=f"vector_{index}")
            ET.SubElement(case, "error", message=self.error or "not run", type="not-run")
        return ET.tostring(ET.ElementTree(suite).getroot(), encoding="unicode", xml_declaration=True) + "\n"


def write_atomically(path: Path, text: str) -> None:
    """Never a half-written report: write beside it, then rename."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def dumps(report: HilReport) -> str:
    return json.dumps(report.to_json())
