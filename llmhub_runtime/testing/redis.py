"""``RedisServer``: a real ``redis-server`` on a free loopback port, for tests of shared state.

Needs the ``redis-server`` binary (Debian: ``apt-get install redis-server``). Nothing is saved to
disk; the server stops when the ``with`` block ends (or on ``kill()``, to test Redis going away)::

    with RedisServer() as redis:
        hub = LLMHub(config={... "cache": {"backend": "redis", "url": redis.url} ...})
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from types import TracebackType

from .env import unused_port

__all__ = ["RedisServer", "redis_server_available"]


def redis_server_available() -> bool:
    """Whether a ``redis-server`` binary is on ``PATH``."""
    return shutil.which("redis-server") is not None


class RedisServer:
    """One ``redis-server`` process on 127.0.0.1 (no persistence), ready when the ``with`` block starts."""

    __test__ = False

    def __init__(self, *, port: int | None = None, startup_timeout: float = 10.0) -> None:
        self.port = port or unused_port()
        self.startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._dir: tempfile.TemporaryDirectory[str] | None = None

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:PORT/0``."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        """Start the server and wait until it answers PING."""
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (Debian: apt-get install -y redis-server)")
        self._dir = tempfile.TemporaryDirectory(prefix="llmhub-redis-")
        self._process = subprocess.Popen(  # noqa: S603 - a fixed binary and arguments
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", self._dir.name, "--protected-mode", "yes"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"redis-server exited with status {self._process.returncode}")
            if self.ping():
                return self
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"redis-server did not answer on port {self.port} within {self.startup_timeout}s")

    def ping(self) -> bool:
        """Whether the server answers PING now."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        """Stop the server at once (SIGKILL), as a crash would."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait(timeout=10)

    def stop(self) -> None:
        """Stop the server and remove its directory."""
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
