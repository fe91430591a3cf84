"""Images made in the tests, with the metadata cameras and editors put in them."""

from __future__ import annotations

import io

from PIL import Image, PngImagePlugin

GPS_IFD = 0x8825
ORIENTATION = 0x0112
ARTIST = 0x013B


def jpeg(width: int = 40, height: int = 20, *, orientation: int = 1) -> bytes:
    """A JPEG carrying an artist's name, a GPS position and an orientation."""
    image = Image.new("RGB", (width, height), (200, 30, 30))
    image.paste((20, 20, 200), (0, 0, width // 2, height))  # left half blue
    exif = Image.Exif()
    exif[ARTIST] = "Photographer Name"
    exif[ORIENTATION] = orientation
    exif.get_ifd(GPS_IFD)[2] = (46.0, 12.0, 30.0)
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def png(width: int = 40, height: int = 20) -> bytes:
    image = Image.new("RGBA", (width, height), (10, 120, 60, 128))
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Someone Private")
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def gif(frames: int = 3, width: int = 30, height: int = 30) -> bytes:
    images = [Image.new("RGB", (width, height), (index * 60, 90, 200)) for index in range(frames)]
    out = io.BytesIO()
    images[0].save(out, format="GIF", save_all=True, append_images=images[1:], duration=120, loop=0)
    return out.getvalue()


def other(image_format: str, width: int = 10, height: int = 10) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (1, 2, 3)).save(out, format=image_format)
    return out.getvalue()
