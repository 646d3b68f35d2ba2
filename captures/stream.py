"""What the capture writers (``pcap.PcapWriter``, ``pcapng.PcapngWriter``) share: the output file -
a path they open, buffer and close, or a binary file object they write to and leave open - the
closed state, and the context-manager protocol."""

from __future__ import annotations

import builtins
import os
from typing import BinaryIO, Self

from captures.errors import CaptureFieldError


def check_byteorder(byteorder: str) -> str:
    """``byteorder`` as given, when it is a struct byte order a writer can use."""
    if byteorder not in ("<", ">"):
        raise CaptureFieldError("byteorder", byteorder, '"<" (little-endian) or ">" (big-endian)')
    return byteorder


class StreamWriter:
    """The file plumbing of a capture writer. A subclass calls :meth:`_open` in its ``__init__``
    before writing its file header, and :meth:`_check_open` before every write."""

    _file: BinaryIO
    _owns: bool
    _closed: bool

    def _open(self, file: str | os.PathLike | BinaryIO, buffer_octets: int) -> None:
        if isinstance(file, (str, bytes, os.PathLike)):
            self._file = builtins.open(file, "wb", buffering=buffer_octets)
            self._owns = True
        else:
            self._file = file
            self._owns = False
        self._closed = False

    def _check_open(self) -> None:
        if self._closed:
            raise CaptureFieldError("writer", "closed", "an open writer")

    def flush(self) -> None:
        self._check_open()
        self._file.flush()

    def close(self) -> None:
        """Flush, and close the file when the writer opened it. Closing twice is harmless."""
        if self._closed:
            return
        self._file.flush()
        if self._owns:
            self._file.close()
        self._closed = True

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
