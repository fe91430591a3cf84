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
from mailer.bounces import MAX_MESSAGE_BYTES, clean_text

PROCESSED_FOLDER = "Processed"  # Maildir: .Processed; IMAP: the default for ?move=
PROCESSED_KEYWORD = "$CoopmailProcessed"
IMAP_TIMEOUT = 60
# Messages per UID SEARCH: imaplib refuses a response line over 1 MB, some 140,000 UIDs.
IMAP_SEARCH_WINDOW = 10_000
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
            # Not get_bytes(): that reads the whole entry, however large, before the cap.
            with contextlib.closing(self._box.get_file(key)) as handle:
                data, truncated = _capped(handle.read(MAX_MESSAGE_BYTES + 1))
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
        user, password = unquote(parts.username), unquote(parts.password)
        if not all(value.isascii() for value in (user, password, folder, move_to or "")):
            # imaplib sends ASCII only (LOGIN, folder names in modified UTF-7 by hand).
            raise BounceSourceError(
                "the IMAP user, password and folder names must be ASCII; "
                "give a folder by its modified UTF-7 name, as the server lists it"
            )
        implicit = parts.scheme == "imaps"
        return cls(
            host=parts.hostname,
            port=port or (993 if implicit else 143),
            user=user,
            password=password,
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
    """An IMAP mailbox over TLS. Processed mail is flagged \\Seen plus the keyword
    $CoopmailProcessed, which the next run skips, and with ``?move=FOLDER`` moved there
    (copied, where the server has no MOVE). With MOVE every message left in the folder is
    read, flagged or not: a run that died between the flag and the move left it there."""

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
            # Servers announce MOVE once logged in; imaplib keeps the greeting's list.
            status, capabilities = self._imap.capability()
            self._check((status, capabilities), "list its capabilities")
            self._move = settings.move_to is not None and b"MOVE" in _words(capabilities)
            status, exists = self._imap.select(_quoted(settings.folder))
            self._check((status, exists), "select the folder")
            self._uids = self._search(exists)
        except (OSError, imaplib.IMAP4.error, ssl.SSLError) as error:
            raise BounceSourceError(
                f"cannot read {self.description}: {self._reason(error)}"
            ) from None

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
        target = _quoted(self._settings.move_to) if self._settings.move_to is not None else None
        if target is not None and not self._move:
            # No MOVE: a copy first, then the flag, so a run that dies between the two
            # copies it again rather than never; the original stays (nothing is deleted).
            self._call("copy", "COPY", uid, target)
        self._call("flag", "STORE", uid, "+FLAGS", flags)
        if target is not None and self._move:
            self._call("move", "MOVE", uid, target)

    def close(self) -> None:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            self._imap.close()
            self._imap.logout()

    def _call(self, what: str, command: str, *args: str) -> tuple[str, list[Any]]:
        try:
            status, data = self._imap.uid(command, *args)
        except (OSError, imaplib.IMAP4.error) as error:
            raise BounceSourceError(
                f"IMAP {what} failed on {self.description}: {self._reason(error)}"
            ) from None
        if status != "OK":
            raise BounceSourceError(f"IMAP {what} was refused by {self.description}: {status}")
        return status, list(data)

    def _search(self, exists: list[Any]) -> list[str]:
        """The UIDs to read, searched a window of message numbers at a time."""
        count = exists[0] if exists and isinstance(exists[0], bytes) else b""
        total = int(count) if count.isdigit() else 0
        criteria = ("ALL",) if self._move else ("UNKEYWORD", PROCESSED_KEYWORD)
        uids: list[str] = []
        for first in range(1, total + 1, IMAP_SEARCH_WINDOW):
            last = min(first + IMAP_SEARCH_WINDOW - 1, total)
            status, found = self._imap.uid("SEARCH", f"{first}:{last}", *criteria)
            self._check((status, found), "search the folder")
            raw = found[0] if found and isinstance(found[0], bytes) else b""
            uids.extend(uid.decode("ascii") for uid in raw.split() if uid.isdigit())
        return uids

    def _check(self, result: tuple[str, object], what: str) -> None:
        if result[0] != "OK":
            raise imaplib.IMAP4.error(f"the server would not {what}")

    def _reason(self, error: BaseException) -> str:
        """imaplib's message, which may quote what the server echoed of the LOGIN command:
        the password is blanked, the server's text made one printable line."""
        first = error.args[0] if error.args else None
        text = first.decode("utf-8", "replace") if isinstance(first, bytes) else str(error)
        password = self._settings.password
        quoted = password.replace("\\", "\\\\").replace('"', '\\"')  # as LOGIN sends it
        for form in (password, quoted, repr(quoted.encode())[2:-1]):  # or as %r shows it
            if form:
                text = text.replace(form, "********")
        return clean_text(text.strip().split("\n", 1)[0], limit=200) or type(error).__name__


def _quoted(folder: str) -> str:
    return f'"{folder}"'


def _words(data: list[Any]) -> list[bytes]:
    return b" ".join(d for d in data if isinstance(d, bytes)).upper().split()


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
