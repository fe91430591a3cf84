"""Uploaded images: the type read from the bytes, the limits, metadata gone, a mail copy."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from campaigns.media.errors import ImageTooLarge, NotAnImage
from campaigns.media.images import ImageLimits, identify, prepare_image
from tests.campaigns.media.images import ARTIST, GPS_IFD, ORIENTATION, gif, jpeg, other, png

LIMITS = ImageLimits()


def opened(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def test_a_jpeg_loses_its_metadata_and_stands_the_way_the_camera_was_held() -> None:
    # Orientation 6: the camera was turned; the pixels are stored lying on their side.
    prepared = prepare_image(jpeg(40, 20, orientation=6), name="photo.jpg", limits=LIMITS)
    assert (prepared.extension, prepared.content_type) == ("jpg", "image/jpeg")
    assert (prepared.width, prepared.height) == (20, 40)
    exif = opened(prepared.data).getexif()
    assert ARTIST not in exif
    assert ORIENTATION not in exif
    assert not exif.get_ifd(GPS_IFD)
    assert b"Photographer Name" not in prepared.data


def test_a_png_loses_its_text_chunks_and_keeps_its_transparency() -> None:
    prepared = prepare_image(png(), name="chart.png", limits=LIMITS)
    image = opened(prepared.data)
    assert image.format == "PNG"
    assert "Author" not in image.info
    assert b"Someone Private" not in prepared.data
    assert image.mode == "RGBA"
    assert image.getpixel((0, 0))[3] == 128


def test_a_wide_image_gets_a_copy_1200_pixels_wide_for_mail() -> None:
    prepared = prepare_image(jpeg(3000, 1500), name="wide.jpg", limits=LIMITS)
    assert (prepared.width, prepared.height) == (3000, 1500)
    assert (prepared.email_width, prepared.email_height) == (1200, 600)
    assert opened(prepared.email_data).size == (1200, 600)
    assert len(prepared.email_data) < len(prepared.data)


def test_a_narrow_image_is_its_own_mail_copy() -> None:
    prepared = prepare_image(png(600, 300), name="narrow.png", limits=LIMITS)
    assert prepared.email_data == prepared.data
    assert (prepared.email_width, prepared.email_height) == (600, 300)


def test_an_animated_gif_keeps_every_frame_when_resized() -> None:
    prepared = prepare_image(gif(frames=3, width=2400, height=100), name="a.gif", limits=LIMITS)
    small = opened(prepared.email_data)
    assert small.format == "GIF"
    assert small.size == (1200, 50)
    assert getattr(small, "n_frames", 1) == 3


def test_webp_is_accepted() -> None:
    prepared = prepare_image(other("WEBP"), name="x.webp", limits=LIMITS)
    assert prepared.content_type == "image/webp"


@pytest.mark.parametrize("image_format", ["BMP", "TIFF"])
def test_another_image_format_is_refused_by_name(image_format: str) -> None:
    with pytest.raises(NotAnImage) as caught:
        prepare_image(other(image_format), name="scan.png", limits=LIMITS)
    assert caught.value.found == image_format
    assert "scan.png" in str(caught.value)


@pytest.mark.parametrize(
    "data",
    [b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", b"", b"GIF89a"],
)
def test_bytes_that_are_not_an_image_are_refused_whatever_the_name(data: bytes) -> None:
    with pytest.raises(NotAnImage):
        prepare_image(data, name="logo.png", limits=LIMITS)


def test_a_truncated_image_is_refused() -> None:
    with pytest.raises(NotAnImage):
        prepare_image(jpeg(400, 400)[:400], name="cut.jpg", limits=LIMITS)


def test_too_many_bytes_are_refused_before_decoding() -> None:
    with pytest.raises(ImageTooLarge) as caught:
        prepare_image(b"x" * 101, name="big.jpg", limits=ImageLimits(max_bytes=100))
    assert caught.value.limit == "bytes"


def test_too_many_pixels_are_refused_from_the_header() -> None:
    with pytest.raises(ImageTooLarge) as caught:
        identify(png(200, 200), name="huge.png", limits=ImageLimits(max_pixels=10_000))
    assert (caught.value.limit, caught.value.actual) == ("pixels", 40_000)


def test_identify_reads_the_type_and_size() -> None:
    assert identify(gif(), name="a.gif", limits=LIMITS) == ("gif", 30, 30)
