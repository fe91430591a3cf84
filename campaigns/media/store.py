"""Where the library's files live: a folder on disk, one file per content-addressed name.

A name is the SHA-256 of the bytes and their extension, so a file never changes once
written (it can be cached for ever), the same image uploaded twice is stored once, and a
name from a URL can be checked against one pattern before it comes near the file system.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

NAME = re.compile(r"[0-9a-f]{32}\.(?:png|jpg|gif|webp)")


def content_name(data: bytes, extension: str) -> str:
    return f"{hashlib.sha256(data).hexdigest()[:32]}.{extension}"


def is_media_name(name: str) -> bool:
    return NAME.fullmatch(name) is not None


class MediaStore(Protocol):
    def put(self, name: str, data: bytes) -> None:
        """Keep ``data`` under ``name`` (already there: nothing to do)."""

    def get(self, name: str) -> bytes | None:
        """The bytes of ``name``, or None when there is no such file."""


class DiskStore:
    """Files in one folder, written whole or not at all (a temporary file, then renamed)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def put(self, name: str, data: bytes) -> None:
        path = self._path(name)
        if path.exists():
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def get(self, name: str) -> bytes | None:
        if not is_media_name(name):
            return None
        try:
            return self._path(name).read_bytes()
        except FileNotFoundError:
            return None

    def _path(self, name: str) -> Path:
        if not is_media_name(name):
            raise ValueError(f"not a media file name: {name!r}")  # a bug in the caller
        return self.folder / name
