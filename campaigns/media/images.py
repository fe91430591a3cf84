"""Check, clean and size one uploaded image with Pillow, before anything is stored.

The type is read from the bytes, never from the file's name; what is kept is the pixels
(and the colour profile, without which photos shift colour), re-encoded, so that no
camera, GPS or editing metadata goes out to thousands of partners. Mail programs show
images at 600 px; a copy at most twice that wide stays sharp on dense screens and is a
fraction of the weight of a photo straight from a camera.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from campaigns.media.errors import ImageTooLarge, NotAnImage

# Pillow's format name -> our extension and the Content-Type it is served with.
FORMATS: dict[str, tuple[str, str]] = {
    "PNG": ("png", "image/png"),
    "JPEG": ("jpg", "image/jpeg"),
    "GIF": ("gif", "image/gif"),
    "WEBP": ("webp", "image/webp"),
}
CONTENT_TYPES = dict(FORMATS.values())
# What re-encoding keeps from the original's info: how it looks, never who made it.
_KEPT_INFO = ("transparency", "icc_profile", "duration", "loop", "background")


@dataclass(frozen=True, kw_only=True)
class ImageLimits:
    max_bytes: int = 10 * 1024 * 1024
    max_pixels: int = 40_000_000  # all frames together
    email_width: int = 1200  # 600 px in the mail, twice for dense screens


@dataclass(frozen=True, kw_only=True)
class PreparedImage:
    """The cleaned image, and its copy for mail (the same bytes when already narrow)."""

    data: bytes
    email_data: bytes
    extension: str
    content_type: str
    width: int
    height: int
    email_width: int
    email_height: int


def identify(data: bytes, *, name: str, limits: ImageLimits) -> tuple[str, int, int]:
    """The extension, width and height of an image we accept, read from its header only:
    enough to check a remote image without decoding it."""
    with _opened(data, name=name, limits=limits) as image:
        return FORMATS[str(image.format)][0], image.width, image.height


def prepare_image(data: bytes, *, name: str, limits: ImageLimits) -> PreparedImage:
    """Raise NotAnImage or ImageTooLarge, else the cleaned image and its mail copy."""
    with _opened(data, name=name, limits=limits) as image:
        image_format = str(image.format)
        extension, content_type = FORMATS[image_format]
        frames = _frames(image, name=name)
        cleaned = _encode(frames, image_format, durations=_durations(image))
        width, height = frames[0].size
        if width > limits.email_width:
            email_height = max(1, round(height * limits.email_width / width))
            size = (limits.email_width, email_height)
            smaller = [_resized(frame, size) for frame in frames]
            email_data = _encode(smaller, image_format, durations=_durations(image))
        else:
            email_data, size = cleaned, (width, height)
    return PreparedImage(
        data=cleaned,
        email_data=email_data,
        extension=extension,
        content_type=content_type,
        width=width,
        height=height,
        email_width=size[0],
        email_height=size[1],
    )


class _opened:
    """Image.open on the bytes, refusing other formats and oversized images before any
    pixel is decoded."""

    def __init__(self, data: bytes, *, name: str, limits: ImageLimits) -> None:
        if len(data) > limits.max_bytes:
            raise ImageTooLarge(
                name=name, limit="bytes", actual=len(data), maximum=limits.max_bytes
            )
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                self.image = Image.open(io.BytesIO(data))
        except Image.DecompressionBombError:
            raise ImageTooLarge(
                name=name, limit="pixels", actual=limits.max_pixels + 1, maximum=limits.max_pixels
            ) from None
        except (UnidentifiedImageError, OSError, ValueError):
            raise NotAnImage(name=name, found=None) from None
        if self.image.format not in FORMATS:
            found = self.image.format
            self.image.close()
            raise NotAnImage(name=name, found=found)
        pixels = self.image.width * self.image.height * getattr(self.image, "n_frames", 1)
        if pixels > limits.max_pixels:
            self.image.close()
            raise ImageTooLarge(name=name, limit="pixels", actual=pixels, maximum=limits.max_pixels)

    def __enter__(self) -> Image.Image:
        return self.image

    def __exit__(self, *exc: object) -> None:
        self.image.close()


def _frames(image: Image.Image, *, name: str) -> list[Image.Image]:
    """Every frame, decoded (a broken file fails here), upright, with only _KEPT_INFO."""
    try:
        if getattr(image, "n_frames", 1) > 1:
            frames = [frame.convert("RGBA") for frame in ImageSequence.Iterator(image)]
        else:
            frames = [ImageOps.exif_transpose(image)]  # a copy, turned as the camera was held
    except (OSError, ValueError, SyntaxError):
        raise NotAnImage(name=name, found=None) from None
    kept: dict[str | tuple[int, int], Any] = {
        key: image.info[key] for key in _KEPT_INFO if key in image.info
    }
    for frame in frames:
        frame.info = dict(kept)
    return frames


def _durations(image: Image.Image) -> list[int]:
    if getattr(image, "n_frames", 1) <= 1:
        return []
    durations = []
    for frame in ImageSequence.Iterator(image):
        durations.append(int(frame.info.get("duration", 100)))
    return durations


def _resized(frame: Image.Image, size: tuple[int, int]) -> Image.Image:
    source = frame if frame.mode in ("RGB", "RGBA", "L") else frame.convert("RGBA")
    smaller = source.resize(size, Image.Resampling.LANCZOS)
    smaller.info = dict(frame.info)
    return smaller


def _encode(frames: list[Image.Image], image_format: str, *, durations: list[int]) -> bytes:
    out = io.BytesIO()
    first = frames[0]
    options: dict[str, object] = {}
    if "icc_profile" in first.info:
        options["icc_profile"] = first.info["icc_profile"]
    if image_format == "JPEG":
        if first.mode not in ("RGB", "L", "CMYK"):
            first = first.convert("RGB")
        options.update(quality=88, optimize=True, progressive=True)
    elif image_format == "WEBP":
        options.update(quality=88)
    elif image_format == "PNG":
        options.update(optimize=True)
    if len(frames) > 1:
        options.update(
            save_all=True,
            append_images=frames[1:],
            duration=durations,
            loop=int(first.info.get("loop", 0)),
        )
    first.save(out, format=image_format, **options)
    return out.getvalue()
