"""Errors of the media library and of the images a campaign names.

Each carries the file, the reference or the limit that was hit; the shell says what to do."""

from __future__ import annotations

from campaigns.errors import CampaignsError, ContentError


class MediaError(CampaignsError):
    """Base of the media library's errors."""


class NotAnImage(MediaError):
    """The bytes are not a PNG, JPEG, GIF or WebP image (whatever the file's name says)."""

    def __init__(self, *, name: str, found: str | None) -> None:
        what = f"a {found} file" if found else "not an image we can read"
        super().__init__(f"{name} is {what}; upload a PNG, JPEG, GIF or WebP image")
        self.name = name
        self.found = found


class ImageTooLarge(MediaError):
    """Too many bytes or too many pixels for a mail."""

    def __init__(self, *, name: str, limit: str, actual: int, maximum: int) -> None:
        unit = "bytes" if limit == "bytes" else "pixels"
        super().__init__(f"{name} has {actual:,} {unit}; the most allowed is {maximum:,} {unit}")
        self.name = name
        self.limit = limit
        self.actual = actual
        self.maximum = maximum


class AltTextInvalid(MediaError):
    """Alt text is what a blind reader hears and what shows with images off: required."""

    def __init__(self, *, maximum: int) -> None:
        super().__init__(
            f"describe the image in a few words (alt text, at most {maximum} characters)"
        )
        self.maximum = maximum


class MediaNotFound(MediaError):
    def __init__(self, reference: int | str) -> None:
        super().__init__(f"there is no image {reference} in the media library")
        self.reference = reference


class ImageProblem(ContentError):
    """An image a campaign names cannot be used; ``reference`` is as written in the content,
    ``source`` and ``line`` say where.

    ``reason`` is one of :data:`REASONS`, for the shell to explain in its own words."""

    def __init__(
        self, *, reference: str, reason: str, source: str, line: int | None, detail: str = ""
    ) -> None:
        text = REASONS[reason]
        super().__init__(
            f"image {reference!r}: {text}" + (f" ({detail})" if detail else ""),
            source=source,
            line=line,
        )
        self.reference = reference
        self.reason = reason
        self.detail = detail


REASONS = {
    "missing": "no such file",
    "insecure": "an http:// address is not encrypted and is blocked by the view-in-browser "
    "page and many mail programs; use https:// or add the image to the media library",
    "scheme": "only https:// addresses and files of the media library can be shown in a mail",
    "unreachable": "the address could not be fetched",
    "not_in_library": "is not in the media library (it may have been uploaded elsewhere)",
    "no_alt": "has no alt text; describe the image in the content or in the media library",
    "not_image": "is not a PNG, JPEG, GIF or WebP image",
    "too_large": "is too large for a mail",
    "no_files": "files cannot be read here; upload the image to the media library",
}


class FetchFailed(MediaError):
    """A remote image could not be fetched (raised by the shell's fetcher)."""

    def __init__(self, *, url: str, reason: str) -> None:
        super().__init__(f"{url} could not be fetched: {reason}")
        self.url = url
        self.reason = reason
