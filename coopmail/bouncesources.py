"""Where bounce mail is read from: standard input, an mbox, a Maildir, or IMAP over TLS.

Each source yields messages (at most MAX_MESSAGE_BYTES of each) and is told when one has
been recorded, committed, so it can move or flag it. Nothing is ever deleted: a message
read but not yet marked is read again next time, and recording it again changes nothing.
"""

from __future__ import annotations

import contextlib
import imaplib
import mailbox
import os
import re
import ssl
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from coopmail.errors import CoopmailError
from mailer.bounces import MAX_MESSAGE_BYTES

PROCESSED_FOLDER = "Processed"  # Maildir: .Processed; IMAP: the default for ?move=
PROCESSED_KEYWORD = "$CoopmailProcessed"
IMAP_TIMEOUT = 60
# The envelope recipient Postfix's local(8) gives a pipe command: our VERP address.
ENVELOPE_VARIABLES = ("ORIGINAL_RECIPIENT", "RECIPIENT")


class BounceSourceError(CoopmailError):
    """A mailbox that cannot be read; the message never contains a password."""


@dataclass(frozen=True, kw_only=True)
class Incoming:
    data: bytes
    truncated: bool
    envelope_recipients: tuple[str, ...] = ()
    handle: str = ""  # what the source needs to mark it processed


class BounceSource(Protocol):
    description: str

    def count(self) -> int | None: ...

    def messages(self) -> Iterator[Incoming]: ...

    def processed(self, incoming: Incoming) -> None: ...

    def close(self) -> None: ...


def _capped(data: bytes) -> tuple[bytes, bool]:
    return data[:MAX_MESSAGE_BYTES], len(data) > MAX_MESSAGE_BYTES


class StdinSource:
    """One message piped by the MTA (`|coopmail bounces process -`)."""

    description = "standard input"

    def __init__(self, *, stream: BinaryIO, environ: Mapping[str, str]) -> None:
        self._stream = stream
        self._envelope = tuple(environ[name] for name in ENVELOPE_VARIABLES if environ.get(name))

    def count(self) -> int | None:
        return 1

    def messages(self) -> Iterator[Incoming]:
        data = self._stream.read(MAX_MESSAGE_BYTES + 1)
        while self._stream.read(1024 * 1024):  # drain the rest, so the MTA sees it taken
            pass
        data, truncated = _capped(data)
        yield Incoming(data=data, truncated=truncated, envelope_recipients=self._envelope)

    def processed(self, incoming: Incoming) -> None:
        """Nothing to mark: the MTA takes exit status 0 as delivered."""

    def close(self) -> None:
        """The MTA owns the stream."""


class MboxSource:
    """An mbox file, left as it is: re-reading it finds every message already recorded."""

    def __init__(self, *, path: Path) -> None:
        if not path.is_file():
            raise BounceSourceError(f"{path} is not a file; give the mbox of the bounce address")
        self.description = str(path)
        self._box = mailbox.mbox(path, create=False)

    def count(self) -> int | None:
        return len(self._box)

    def messages(self) -> Iterator[Incoming]:
        for key in self._box.iterkeys():
            data, truncated = _capped(self._box.get_bytes(key))
            yield Incoming(data=data, truncated=truncated)

    def processed(self, incoming: Incoming) -> None:
        """Left in place on purpose: the file may be the MTA's, still being appended to."""

    def close(self) -> None:
        self._box.close()


class MaildirSource:
    """A Maildir: each processed message is moved (renamed) into its .Processed folder."""

    def __init__(self, *, path: Path) -> None:
        if not (path / "new").is_dir() or not (path / "cur").is_dir():
            raise BounceSourceError(f"{path} is not a Maildir (it needs new/ and cur/ folders)")
        self.description = str(path)
        self._root = path
        self._target = path / f".{PROCESSED_FOLDER}"
        mailbox.Maildir(path, create=False).add_folder(PROCESSED_FOLDER)
        self._files = sorted(
            entry
            for sub in ("new", "cur")
            for entry in (path / sub).iterdir()
            if entry.is_file() and not entry.name.startswith(".")
        )

    def count(self) -> int | None:
        return len(self._files)

    def messages(self) -> Iterator[Incoming]:
        for entry in self._files:
            try:
                with entry.open("rb") as handle:
                    data = handle.read(MAX_MESSAGE_BYTES + 1)
            except FileNotFoundError:  # another reader moved it meanwhile
                continue
            data, truncated = _capped(data)
            yield Incoming(data=data, truncated=truncated, handle=str(entry))

    def processed(self, incoming: Incoming) -> None:
        source = Path(incoming.handle)
        base = source.name.split(":", 1)[0]
        flags = source.name.split(":2,", 1)[1] if ":2," in source.name else ""
        flags = "".join(sorted(set(flags) | {"S"}))
        # FileNotFoundError: another reader moved it; it was recorded once all the same.
        with contextlib.suppress(FileNotFoundError):
            source.rename(self._target / "cur" / f"{base}:2,{flags}")

    def close(self) -> None:
        """Plain files: nothing held open."""


@dataclass(frozen=True, kw_only=True)
class ImapSettings:
    host: str
    port: int
    user: str
    password: str
    folder: str
    implicit_tls: bool
    move_to: str | None

    @classmethod
    def from_url(cls, url: str) -> ImapSettings:
        """imaps://user:pass@host[:993]/INBOX[?move=Processed], or imap:// with STARTTLS."""
        parts = urlsplit(url)
        if parts.scheme not in ("imap", "imaps") or not parts.hostname:
            raise BounceSourceError(
                "the IMAP URL must look like imaps://user:password@host/INBOX "
                "(or imap://... for STARTTLS on port 143)"
            )
        try:
            port = parts.port
        except ValueError:
            raise BounceSourceError("the IMAP URL has a port that is not a number") from None
        if not parts.username or parts.password is None:
            raise BounceSourceError(
                "the IMAP URL needs a user and a password: imaps://user:pass@host/INBOX"
            )
        query = parse_qs(parts.query)
        unknown = sorted(set(query) - {"move"})
        if unknown:
            raise BounceSourceError(f"unknown IMAP URL option {unknown[0]!r}; known: move")
        move_to = query["move"][-1] if "move" in query else None
        folder = unquote(parts.path.lstrip("/")) or "INBOX"
        for name in (folder, move_to or ""):
            if re.search(r"[\x00-\x1f\x7f\"\\]", name):
                raise BounceSourceError("IMAP folder names must not contain quotes or controls")
        implicit = parts.scheme == "imaps"
        return cls(
            host=parts.hostname,
            port=port or (993 if implicit else 143),
            user=unquote(parts.username),
            password=unquote(parts.password),
            folder=folder,
            implicit_tls=implicit,
            move_to=move_to,
        )

    def describe(self) -> str:
        scheme = "imaps" if self.implicit_tls else "imap"
        return f"{scheme}://{self.user}@{self.host}:{self.port}/{self.folder}"

    def __repr__(self) -> str:
        return f"ImapSettings({self.describe()!r})"


class ImapSource:
    """An IMAP mailbox over TLS. Processed mail is moved to ``?move=FOLDER``, or else
    flagged \\Seen plus the keyword $CoopmailProcessed, which the next run skips."""

    def __init__(self, *, settings: ImapSettings, context: ssl.SSLContext | None = None) -> None:
        self.description = settings.describe()
        self._settings = settings
        context = context or ssl.create_default_context()
        try:
            if settings.implicit_tls:
                self._imap: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                    settings.host, settings.port, ssl_context=context, timeout=IMAP_TIMEOUT
                )
            else:
                self._imap = imaplib.IMAP4(settings.host, settings.port, timeout=IMAP_TIMEOUT)
                self._imap.starttls(ssl_context=context)
            self._imap.login(settings.user, settings.password)
            self._check(self._imap.select(_quoted(settings.folder)), "select the folder")
            status, found = self._imap.uid("SEARCH", "UNKEYWORD", PROCESSED_KEYWORD)
            self._check((status, found), "search the folder")
        except (OSError, imaplib.IMAP4.error, ssl.SSLError) as error:
            raise BounceSourceError(
                f"cannot read {self.description}: {_imap_reason(error)}"
            ) from None
        raw = found[0] if found and isinstance(found[0], bytes) else b""
        self._uids = [uid.decode("ascii") for uid in raw.split() if uid.isdigit()]
        self._move = settings.move_to is not None and b"MOVE" in self._capabilities()

    def count(self) -> int | None:
        return len(self._uids)

    def messages(self) -> Iterator[Incoming]:
        for uid in self._uids:
            # BODY.PEEK: reading must not mark the message \Seen before it is recorded.
            request = f"(BODY.PEEK[]<0.{MAX_MESSAGE_BYTES + 1}>)"
            status, parts = self._call("fetch", "FETCH", uid, request)
            data = next(
                (p[1] for p in parts if isinstance(p, tuple) and isinstance(p[1], bytes)), b""
            )
            if status != "OK" or not data:
                continue
            data, truncated = _capped(data)
            yield Incoming(data=data, truncated=truncated, handle=uid)

    def processed(self, incoming: Incoming) -> None:
        uid = incoming.handle
        flags = f"(\\Seen {PROCESSED_KEYWORD})"
        self._call("flag", "STORE", uid, "+FLAGS", flags)
        if self._settings.move_to is not None:
            target = _quoted(self._settings.move_to)
            if self._move:
                self._call("move", "MOVE", uid, target)
            else:  # no MOVE: a copy, and the flagged original stays (nothing is deleted)
                self._call("copy", "COPY", uid, target)

    def close(self) -> None:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            self._imap.close()
            self._imap.logout()

    def _capabilities(self) -> bytes:
        return b" ".join(
            c.encode() if isinstance(c, str) else c for c in self._imap.capabilities
        ).upper()

    def _call(self, what: str, command: str, *args: str) -> tuple[str, list[Any]]:
        try:
            status, data = self._imap.uid(command, *args)
        except (OSError, imaplib.IMAP4.error) as error:
            raise BounceSourceError(
                f"IMAP {what} failed on {self.description}: {_imap_reason(error)}"
            ) from None
        if status != "OK":
            raise BounceSourceError(f"IMAP {what} was refused by {self.description}: {status}")
        return status, list(data)

    def _check(self, result: tuple[str, object], what: str) -> None:
        if result[0] != "OK":
            raise imaplib.IMAP4.error(f"the server would not {what}")


def _quoted(folder: str) -> str:
    return f'"{folder}"'


def _imap_reason(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0][:200]


def open_source(
    *,
    mbox: Path | None,
    maildir: Path | None,
    imap: str | None,
    stdin: BinaryIO | None,
    environ: Mapping[str, str] | None = None,
) -> BounceSource:
    """The one source the command line named."""
    if mbox is not None:
        return MboxSource(path=mbox)
    if maildir is not None:
        return MaildirSource(path=maildir)
    if imap is not None:
        return ImapSource(settings=ImapSettings.from_url(imap))
    assert stdin is not None
    return StdinSource(stream=stdin, environ=os.environ if environ is None else environ)
