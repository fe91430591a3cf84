"""Every image a campaign names, resolved when the campaign is created or saved.

Tried as a new user would, ``image: webinar.png``, an absolute path and a ``file://`` URL
were all sent as written, broken for every recipient. So each reference (a Markdown
``![alt](target)``, an HTML ``<img src>``, a kind's ``image:`` field) becomes an address
that works in a mail, or the campaign is refused with the reference and its line:

- a local file (allowed where there is a folder to read from: the command line's content
  file) goes into the media library and is replaced by its public URL;
- a URL of the library stays, pointing at the copy sized for mail;
- a remote ``https://`` image is fetched by the shell's fetcher (when given), checked for
  type and size, and copied into the library when asked;
- ``http://``, other schemes and missing files are refused, with the reason.

Every image needs alt text: from the reference, else from the library's description.
Nothing is written here: the new images are kept by :func:`keep_images`, in the same
transaction as the campaign.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TypeVar
from urllib.parse import unquote, urlsplit

from sqlalchemy.orm import Session

from campaigns.content import Content
from campaigns.media.errors import FetchFailed, ImageProblem, ImageTooLarge, NotAnImage
from campaigns.media.images import ImageLimits, PreparedImage, identify, prepare_image
from campaigns.media.library import (
    add_media,
    find_by_file_name,
    library_name,
    public_url,
)
from campaigns.media.store import MediaStore, content_name
from campaigns.models import SourceFormat

T = TypeVar("T")
Fetch = Callable[[str], bytes]
"""Fetches an https:// image, at most a few megabytes; raises FetchFailed."""

_MARKDOWN_IMAGE = re.compile(
    r"!\[(?P<alt>[^\]\n]*)\]\(\s*(?P<target><[^>\n]*>|[^)\s]+)(?P<title>\s+\"[^\"\n]*\")?\s*\)"
)
_IMG_TAG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_ATTRIBUTE = r"\b{name}\s*=\s*(?:\"(?P<dq>[^\"]*)\"|'(?P<sq>[^']*)'|(?P<bare>[^\s>\"']+))"
_SRC = re.compile(_ATTRIBUTE.format(name="src"), re.IGNORECASE)
_ALT = re.compile(_ATTRIBUTE.format(name="alt"), re.IGNORECASE)
_IMAGE_FIELD = re.compile(r"(?:.*_)?image")


@dataclass(frozen=True, kw_only=True)
class ImageContext:
    """What the caller allows: where local files are read from (None: nowhere, as for the
    API and the admin, whose uploads go through the library), and how remote images are
    checked (None: left as written)."""

    store: MediaStore
    base_url: str
    folder: Path | None = None
    fetch: Fetch | None = None
    copy_remote: bool = False
    limits: ImageLimits = field(default_factory=ImageLimits)


@dataclass(frozen=True, kw_only=True)
class NewImage:
    image: PreparedImage
    filename: str
    alt: str


@dataclass(frozen=True, kw_only=True)
class ResolvedImages:
    content: Content
    new_images: tuple[NewImage, ...] = ()
    store: MediaStore | None = None


def resolve_images(session: Session, *, content: Content, context: ImageContext) -> ResolvedImages:
    """``content`` with every image reference replaced by a working URL, and the images
    to add to the library; raises ImageProblem on the first that cannot be used."""
    resolver = _Resolver(session, content=content, context=context)
    body = (
        resolver.markdown(content.body)
        if content.format is SourceFormat.MARKDOWN
        else resolver.html(content.body)
    )
    meta = resolver.fields(content.meta)
    return ResolvedImages(
        content=replace(content, body=body, meta=meta),
        new_images=tuple(resolver.new.values()),
        store=context.store,
    )


def keep_images(session: Session, *, resolved: ResolvedImages, now: datetime) -> None:
    """Add the images a campaign brought to the library (in the campaign's transaction)."""
    if resolved.store is None:
        return
    for new in resolved.new_images:
        add_media(
            session,
            store=resolved.store,
            image=new.image,
            filename=new.filename,
            alt_text=new.alt,
            now=now,
        )


class _Resolver:
    def __init__(self, session: Session, *, content: Content, context: ImageContext) -> None:
        self.session = session
        self.content = content
        self.context = context
        self.new: dict[str, NewImage] = {}  # by the mail copy's name

    def markdown(self, body: str) -> str:
        def one(found: re.Match[str]) -> str:
            target = found.group("target").strip("<>")
            line = self._line(body, found.start())
            url, alt = self.resolve(target, found.group("alt").strip(), line=line)
            return f"![{_markdown_text(alt)}]({url}{found.group('title') or ''})"

        return _MARKDOWN_IMAGE.sub(one, body)

    def html(self, body: str) -> str:
        def one(found: re.Match[str]) -> str:
            tag = found.group(0)
            src = _SRC.search(tag)
            if src is None:
                return tag
            alt_match = _ALT.search(tag)
            alt = html.unescape(_value(alt_match)) if alt_match else ""
            line = self._line(body, found.start())
            url, alt = self.resolve(html.unescape(_value(src)), alt.strip(), line=line)
            tag = tag[: src.start()] + f'src="{html.escape(url)}"' + tag[src.end() :]
            if alt_match is None:
                tag = tag[:4] + f' alt="{html.escape(alt)}"' + tag[4:]
            return tag

        return _IMG_TAG.sub(one, body)

    def fields(self, meta: dict[str, object]) -> dict[str, object]:
        """A kind's image fields (``image``, ``photo_image``…), each with its ``_alt``."""
        result = dict(meta)
        for key, value in meta.items():
            if not _IMAGE_FIELD.fullmatch(key) or not isinstance(value, str) or not value:
                continue
            given = meta.get(f"{key}_alt")
            alt = given.strip() if isinstance(given, str) else ""
            result[key], result[f"{key}_alt"] = self.resolve(value, alt, line=None)
        return result

    def resolve(self, reference: str, alt: str, *, line: int | None) -> tuple[str, str]:
        reference = reference.strip()
        if "{{" in reference or "{%" in reference:
            return reference, alt  # a template's value, known only when it renders
        parts = urlsplit(reference)
        scheme = parts.scheme.lower()
        name = library_name(reference, base_url=self.context.base_url)
        if name is not None:
            url, alt = self._library(reference, name, alt, line=line)
        elif scheme == "https":
            url = self._remote(reference, alt, line=line)
        elif scheme == "http":
            raise self._problem(reference, "insecure", line)
        elif scheme == "file":
            url, alt = self._local(reference, Path(unquote(parts.path)), alt, line=line)
        elif len(scheme) > 1:  # one letter is a Windows drive: C:\photos\a.jpg
            raise self._problem(reference, "scheme", line)
        else:
            url, alt = self._local(reference, Path(unquote(reference)), alt, line=line)
        if not alt:
            raise self._problem(reference, "no_alt", line)
        return url, alt

    def _library(self, reference: str, name: str, alt: str, *, line: int | None) -> tuple[str, str]:
        item = find_by_file_name(self.session, name=name)
        if item is not None:
            return public_url(item.email_name, base_url=self.context.base_url), alt or item.alt_text
        if name in self.new:
            return reference, alt or self.new[name].alt
        raise self._problem(reference, "not_in_library", line)

    def _remote(self, reference: str, alt: str, *, line: int | None) -> str:
        fetch = self.context.fetch
        if fetch is None:
            return reference
        try:
            data = fetch(reference)
        except FetchFailed as error:
            raise self._problem(reference, "unreachable", line, detail=error.reason) from None
        if not self.context.copy_remote:
            self._checked(
                reference, lambda: identify(data, name=reference, limits=self.context.limits), line
            )
            return reference
        filename = urlsplit(reference).path.rsplit("/", 1)[-1]
        return self._added(reference, data, filename, alt, line=line)[0]

    def _local(self, reference: str, path: Path, alt: str, *, line: int | None) -> tuple[str, str]:
        if self.context.folder is None:
            raise self._problem(reference, "no_files", line)
        path = path if path.is_absolute() else self.context.folder / path
        try:
            data = path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise self._problem(reference, "missing", line, detail=str(path)) from None
        except OSError as error:
            raise self._problem(
                reference, "missing", line, detail=f"{path}: {error.strerror}"
            ) from None
        return self._added(reference, data, path.name, alt, line=line)

    def _added(
        self, reference: str, data: bytes, filename: str, alt: str, *, line: int | None
    ) -> tuple[str, str]:
        image = self._checked(
            reference,
            lambda: prepare_image(data, name=reference, limits=self.context.limits),
            line,
        )
        email_name = content_name(image.email_data, image.extension)
        known = find_by_file_name(self.session, name=email_name)
        alt = alt or (known.alt_text if known is not None else "")
        if not alt:
            raise self._problem(reference, "no_alt", line)
        if known is None and email_name not in self.new:
            self.new[email_name] = NewImage(image=image, filename=filename, alt=alt)
        return public_url(email_name, base_url=self.context.base_url), alt

    def _checked(self, reference: str, work: Callable[[], T], line: int | None) -> T:
        try:
            return work()
        except NotAnImage:
            raise self._problem(reference, "not_image", line) from None
        except ImageTooLarge as error:
            raise self._problem(reference, "too_large", line, detail=str(error)) from None

    def _problem(
        self, reference: str, reason: str, line: int | None, *, detail: str = ""
    ) -> ImageProblem:
        return ImageProblem(
            reference=reference,
            reason=reason,
            source=self.content.name,
            line=line,
            detail=detail,
        )

    def _line(self, body: str, offset: int) -> int:
        return self.content.body_line + body.count("\n", 0, offset)


def _value(found: re.Match[str] | None) -> str:
    if found is None:
        return ""
    return found.group("dq") or found.group("sq") or found.group("bare") or ""


def _markdown_text(text: str) -> str:
    """Alt text inside ``![...]``: the brackets and backslashes escaped."""
    return re.sub(r"([\\\[\]])", r"\\\1", text)
