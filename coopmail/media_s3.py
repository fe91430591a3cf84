"""The media library in S3-compatible storage (AWS S3, MinIO, Ceph, Garage…), for a unit
whose `coopmail serve` processes share no disk.

boto3 is an optional dependency (`pip install coopmail[s3]`), imported only when a bucket
is configured. Credentials come from boto3's usual places (AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY, ~/.aws, an instance role), never from coopmail's settings, so
they are never shown by `coopmail config show`. Files are still served by coopmail under
/media/, so a bucket can stay private.
"""

from __future__ import annotations

from typing import Any

from campaigns.media.images import CONTENT_TYPES
from campaigns.media.store import is_media_name
from coopmail.errors import ConfigError

IMMUTABLE = "public, max-age=31536000, immutable"


class S3Store:
    def __init__(self, *, bucket: str, prefix: str = "", client: Any) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self.client = client

    @classmethod
    def connect(cls, *, bucket: str, prefix: str, endpoint: str | None) -> S3Store:
        try:
            import boto3
        except ImportError:
            raise ConfigError(
                "COOPMAIL_MEDIA_S3_BUCKET is set but boto3 is not installed; install "
                "coopmail[s3], or unset it to keep images in data_dir"
            ) from None
        return cls(bucket=bucket, prefix=prefix, client=boto3.client("s3", endpoint_url=endpoint))

    def put(self, name: str, data: bytes) -> None:
        if not is_media_name(name):
            raise ValueError(f"not a media file name: {name!r}")  # a bug in the caller
        self.client.put_object(
            Bucket=self.bucket,
            Key=self.prefix + name,
            Body=data,
            ContentType=CONTENT_TYPES[name.rpartition(".")[2]],
            CacheControl=IMMUTABLE,
        )

    def get(self, name: str) -> bytes | None:
        if not is_media_name(name):
            return None
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self.prefix + name)
        except self.client.exceptions.NoSuchKey:
            return None
        data: bytes = answer["Body"].read()
        return data
