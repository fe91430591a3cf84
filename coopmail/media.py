"""The media library as the shell wires it: where the files live, from the settings, and
how the images a campaign names are resolved (what each caller may read and fetch)."""

from __future__ import annotations

from pathlib import Path

from campaigns.media.references import ImageContext
from campaigns.media.store import DiskStore, MediaStore
from coopmail.config import Settings
from coopmail.remote_images import image_fetcher

MEDIA_FOLDER = "media"


def media_store(settings: Settings) -> MediaStore:
    """The library's files in the S3 bucket when one is set, else in ``data_dir``/media
    (made on the first upload)."""
    if settings.media_s3_bucket:
        from coopmail.media_s3 import S3Store

        return S3Store.connect(
            bucket=settings.media_s3_bucket,
            prefix=settings.media_s3_prefix,
            endpoint=settings.media_s3_endpoint,
        )
    return DiskStore(settings.data_dir / MEDIA_FOLDER)


def image_context(
    settings: Settings,
    *,
    folder: Path | None,
    check_remote: bool = True,
    copy_remote: bool = False,
) -> ImageContext:
    """``folder``: where local images are read from (the content file's folder on the
    command line; None for the API and the admin, whose images are uploads)."""
    return ImageContext(
        store=media_store(settings),
        base_url=settings.base_url,
        folder=folder,
        fetch=(
            image_fetcher(allowed_networks=settings.fetch_allowed_networks)
            if check_remote or copy_remote
            else None
        ),
        copy_remote=copy_remote,
    )
