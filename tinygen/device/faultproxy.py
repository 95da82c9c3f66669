"""A fault-injecting serial line: a TCP proxy between the host and a board's TCP serial port.

Every byte crossing it, either way, may be corrupted (XOR with a random non-zero byte), dropped
or sent twice; delays hold a byte back; after a set number of bytes the proxy can hang up. All
draws come from one seeded generator per direction, so a failing run can be replayed. Used to
prove the protocol's recovery (tests/test_hil_link.py) and by `tinygen hil --line-faults`.
"""

from __future__ import annotations

import random
import socket
import threading
from dataclasses import dataclass, field
from types import TracebackType

from tinygen.errors import InputError

BUFFER_BYTES = 4096


@dataclass(frozen=True)
class LineFaults:
    corrupt: float = 0.0         # probability that a byte is altered
    drop: float = 0.0            # ... lost
    duplicate: float = 0.0       # ... sent twice
    delay: float = 0.0           # ... held back by delay_s before it goes on
    delay_s: float = 0.01
    disconnect_after: int = 0    # hang up after this many bytes (both ways); 0: never
    seed: int = 0

    @classmethod
    def parse(cls, text: str) -> LineFaults:
        """'corrupt=0.01,drop=0.001,seed=3' (the --line-faults option)."""
        fields: dict[str, float | int] = {}
        for item in filter(None, (part.strip() for part in text.split(","))):
            key, _, value = item.partition("=")
            if key not in cls.__dataclass_fields__:
                raise InputError(f"--line-faults: unknown fault '{key}' (known: {', '.join(cls.__dataclass_fields__)})")
            try:
                fields[key] = int(value) if key in ("disconnect_after", "seed") else float(value)
            except ValueError:
                raise InputError(f"--line-faults: '{item}' is not {key}=NUMBER") from None
        faults = cls(**fields)
        for name in ("corrupt", "drop", "duplicate", "delay"):
            if not 0.0 <= getattr(faults, name) <= 1.0:
                raise InputError(f"--line-faults: {name} must be a probability between 0 and 1")
        return faults


@dataclass
class ProxyCounts:
    corrupted: int = 0
    dropped: int = 0
    duplicated: int = 0
    delayed: int = 0
    forwarded: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def to_json(self) -> dict:
        return {"corrupted": self.corrupted, "dropped": self.dropped, "duplicated": self.duplicated,
                "delayed": self.delayed, "forwarded": self.forwarded}


class FaultyLine:
    """Listens on 127.0.0.1:<port>; each client is connected to `upstream` (host, port)."""

    def __init__(self, upstream: tuple[str, int], faults: LineFaults) -> None:
        self.upstream = upstream
        self.faults = faults
        self.counts = ProxyCounts()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.url = f"socket://127.0.0.1:{self.port}"
        self._sockets: list[socket.socket] = []
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="tinygen-faulty-line", daemon=True)
        self._thread.start()

    def __enter__(self) -> FaultyLine:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._closed.set()
        for sock in [self._listener, *self._sockets]:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                board = socket.create_connection(self.upstream, timeout=10)
            except OSError:
                client.close()
                continue
            board.settimeout(None)
            self._sockets += [client, board]
            budget = _Budget(self.faults.disconnect_after)
            for index, (source, sink) in enumerate(((client, board), (board, client))):
                rng = random.Random(self.faults.seed * 2 + index)
                threading.Thread(target=self._pump, args=(source, sink, rng, budget), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, rng: random.Random, budget: _Budget) -> None:
        faults, counts = self.faults, self.counts
        try:
            while True:
                data = source.recv(BUFFER_BYTES)
                if not data:
                    break
                out = bytearray()
                for byte in data:
                    if not budget.take():
                        raise ConnectionAbortedError("disconnect injected")
                    draw = rng.random()
                    if draw < faults.drop:
                        with counts.lock:
                            counts.dropped += 1
                        continue
                    if rng.random() < faults.corrupt:
                        byte ^= rng.randrange(1, 256)
                        with counts.lock:
                            counts.corrupted += 1
                    if faults.delay and rng.random() < faults.delay:
                        sink.sendall(out)
                        out.clear()
                        self._closed.wait(faults.delay_s)
                        with counts.lock:
                            counts.delayed += 1
                    out.append(byte)
                    if rng.random() < faults.duplicate:
                        out.append(byte)
                        with counts.lock:
                            counts.duplicated += 1
                with counts.lock:
                    counts.forwarded += len(out)
                sink.sendall(out)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class _Budget:
    """Bytes left before an injected disconnect, shared by both directions."""

    def __init__(self, limit: int) -> None:
        self.left = limit if limit > 0 else -1
        self.lock = threading.Lock()

    def take(self) -> bool:
        if self.left < 0:
            return True
        with self.lock:
            if self.left == 0:
                return False
            self.left -= 1
            return True


def parse_socket_url(url: str) -> tuple[str, int]:
    """('127.0.0.1', 4321) from socket://127.0.0.1:4321 (the only kind of line the proxy can sit on)."""
    if not url.startswith("socket://"):
        raise InputError(f"line faults can only be injected on a socket:// line, not {url}")
    host, _, port = url[len("socket://"):].partition("?")[0].rpartition(":")
    if not host or not port.isdigit():
        raise InputError(f"{url} is not socket://HOST:PORT")
    return host, int(port)
