"""Opening a log: plain, gzip or zstd, told by the file's magic bytes (the extension is only a fallback for empty
files), with the compressed bytes consumed counted for the progress bar."""

from __future__ import annotations

import gzip
import io
from pathlib import Path
from typing import BinaryIO

from patternlimit.errors import ConfigurationError

_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"

READ_SIZE = 1 << 20
"""Bytes per read from disk and per decompression step: large reads keep the per-line cost of I/O negligible."""


class CountingFile(io.RawIOBase):
    """A raw file that counts the bytes read from it, so that progress is known for compressed input too."""

    def __init__(self, raw: BinaryIO) -> None:
        super().__init__()
        self._raw = raw
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        count = self._raw.readinto(buffer)  # type: ignore[attr-defined]
        self.consumed += count or 0
        return int(count or 0)

    def close(self) -> None:
        self._raw.close()
        super().close()


def compression_of(path: Path, head: bytes) -> str:
    """``"gzip"``, ``"zstd"`` or ``"none"``, from the first bytes of the file (or its extension if it is empty)."""
    if head.startswith(_GZIP_MAGIC):
        return "gzip"
    if head.startswith(_ZSTD_MAGIC):
        return "zstd"
    if not head:
        suffix = path.suffix.lower()
        return {".gz": "gzip", ".zst": "zstd", ".zstd": "zstd"}.get(suffix, "none")
    return "none"


def open_log(path: Path) -> tuple[BinaryIO, CountingFile]:
    """The decompressed byte stream of ``path``, and the counter of its compressed bytes read so far."""
    try:
        raw = open(path, "rb", buffering=0)  # noqa: SIM115 - the caller closes the returned stream
    except OSError as exc:
        raise ConfigurationError(f"cannot open log {str(path)!r}: {exc.strerror or exc}") from exc
    counting = CountingFile(raw)
    buffered = io.BufferedReader(counting, READ_SIZE)
    kind = compression_of(path, buffered.peek(4)[:4])
    if kind == "gzip":
        return io.BufferedReader(gzip.GzipFile(fileobj=buffered, mode="rb"), READ_SIZE), counting
    if kind == "zstd":
        try:
            import zstandard  # optional dependency, imported only for .zst logs
        except ImportError as exc:
            buffered.close()
            raise ConfigurationError(
                f'log {str(path)!r} is zstd-compressed: reading it needs zstandard: pip install "patternlimit[replay]"'
            ) from exc
        reader = zstandard.ZstdDecompressor().stream_reader(buffered, read_size=READ_SIZE, closefd=True)
        return io.BufferedReader(reader, READ_SIZE), counting
    return buffered, counting


def file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
