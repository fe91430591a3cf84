"""The media library's use cases: add an image, describe it, list and find images.

The CLI, the admin pages and the images a campaign names (references.py) all come here.
Decoding and re-encoding (``prepare_image``) happens before the database is touched, so a
large photo never holds SQLite's one write lock.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from campaigns.media.errors import AltTextInvalid, MediaNotFound
from campaigns.media.images import PreparedImage
from campaigns.media.models import ALT_MAX, FILENAME_MAX, MediaItem
from campaigns.media.store import MediaStore, content_name, is_media_name

MEDIA_PATH = "/media/"


@dataclass(frozen=True, kw_only=True)
class Added:
    item: MediaItem
    new: bool  # False: the same image was already in the library


def add_media(
    session: Session,
    *,
    store: MediaStore,
    image: PreparedImage,
    filename: str,
    alt_text: str,
    now: datetime,
) -> Added:
    """Store both files and their row; an image already there keeps its row, and gets
    ``alt_text`` if it had none. Alt text may be empty here: it is required before use."""
    alt = clean_alt_text(alt_text, required=False)
    name = content_name(image.data, image.extension)
    email_name = content_name(image.email_data, image.extension)
    store.put(name, image.data)
    if email_name != name:
        store.put(email_name, image.email_data)
    existing = session.scalar(select(MediaItem).where(MediaItem.name == name))
    if existing is not None:
        if alt and not existing.alt_text:
            existing.alt_text = alt
            existing.updated_at = now
        return Added(item=existing, new=False)
    item = MediaItem(
        name=name,
        email_name=email_name,
        content_type=image.content_type,
        size=len(image.data),
        width=image.width,
        height=image.height,
        email_width=image.email_width,
        email_height=image.email_height,
        filename=_filename(filename),
        alt_text=alt,
        created_at=now,
        updated_at=now,
    )
    session.add(item)
    session.flush()
    return Added(item=item, new=True)


def set_alt_text(session: Session, *, media_id: int, alt_text: str, now: datetime) -> MediaItem:
    item = get_media(session, media_id=media_id)
    item.alt_text = clean_alt_text(alt_text, required=True)
    item.updated_at = now
    session.flush()
    return item


def get_media(session: Session, *, media_id: int) -> MediaItem:
    item = session.get(MediaItem, media_id)
    if item is None:
        raise MediaNotFound(media_id)
    return item


def list_media(session: Session, *, limit: int = 100, offset: int = 0) -> list[MediaItem]:
    """Newest first."""
    return list(
        session.scalars(select(MediaItem).order_by(MediaItem.id.desc()).offset(offset).limit(limit))
    )


def find_by_file_name(session: Session, *, name: str) -> MediaItem | None:
    """The item whose original or mail copy is stored as ``name``."""
    if not is_media_name(name):
        return None
    return session.scalar(
        select(MediaItem).where(or_(MediaItem.name == name, MediaItem.email_name == name))
    )


def library_name(url: str, *, base_url: str) -> str | None:
    """The file name of ``url`` if it is one of this library's public URLs."""
    prefix = base_url.rstrip("/") + MEDIA_PATH
    if not url.startswith(prefix):
        return None
    name = url[len(prefix) :]
    return name if is_media_name(name) else None


def public_url(name: str, *, base_url: str) -> str:
    return base_url.rstrip("/") + MEDIA_PATH + name


def describe(item: MediaItem, *, base_url: str) -> dict[str, Any]:
    """An item as the CLI's --json and the editor's picker show it."""
    return {
        "id": item.id,
        "url": public_url(item.email_name, base_url=base_url),
        "original_url": public_url(item.name, base_url=base_url),
        "alt": item.alt_text,
        "content_type": item.content_type,
        "width": item.email_width,
        "height": item.email_height,
        "original_width": item.width,
        "original_height": item.height,
        "bytes": item.size,
        "filename": item.filename,
        "created_at": item.created_at.isoformat(),
    }


def clean_alt_text(value: str, *, required: bool) -> str:
    """One line of words: spaces folded, control characters refused, length bounded."""
    text = " ".join(value.split())
    if any(unicodedata.category(char).startswith("C") for char in text):
        raise AltTextInvalid(maximum=ALT_MAX)
    if len(text) > ALT_MAX or (required and not text):
        raise AltTextInvalid(maximum=ALT_MAX)
    return text


def _filename(value: str) -> str:
    """The uploaded file's own name, for staff to recognise it; never used as a path."""
    name = value.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(char for char in name if unicodedata.category(char)[0] != "C")
    return name[:FILENAME_MAX]


def is_https(url: str) -> bool:
    return urlsplit(url).scheme == "https"
