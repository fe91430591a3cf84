"""The text of an import file, from disk (the CLI) or uploaded bytes (the admin): size-capped,
UTF-8, and a one-line error when it is unusable."""

from __future__ import annotations

from pathlib import Path

from campaigns.news.errors import NewsError

FILE_BYTES_MAX = 10 * 1024 * 1024


def read_file(path: Path, *, limit: int) -> bytes:
    try:
        with path.open("rb") as file:
            data = file.read(limit + 1)
    except FileNotFoundError:
        raise NewsError(f"{path}: no such file") from None
    except OSError as error:
        raise NewsError(f"{path}: cannot be read ({error.strerror})") from None
    if len(data) > limit:
        raise NewsError(f"{path}: larger than {limit // 1024**2} MB; is it the right file?")
    return data


def decoded(data: bytes, *, name: str) -> str:
    """The text of a file's bytes, which must be UTF-8 (a byte-order mark is dropped)."""
    if len(data) > FILE_BYTES_MAX:
        raise NewsError(
            f"{name}: larger than {FILE_BYTES_MAX // 1024**2} MB; is it the right file?"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise NewsError(
            f"{name}: not UTF-8 text (byte {error.start}); save it as UTF-8 and retry"
        ) from None


def read_text_file(path: Path) -> str:
    return decoded(read_file(path, limit=FILE_BYTES_MAX), name=path.name)


def read_listing(path: Path) -> str:
    """A listing file's text, size-capped, with a one-line error when it is unusable."""
    return read_text_file(path)
