"""The media library in S3-compatible storage, against moto's S3 server on the loopback
(the wire protocol boto3 speaks to AWS, MinIO or Ceph), end to end: `coopmail media add`
stores in the bucket and /media/ serves from it."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer
from sqlalchemy import Engine

from campaigns.media.images import ImageLimits, prepare_image
from campaigns.media.library import add_media
from coopmail.db import session_scope
from coopmail.media_s3 import S3Store
from tests.campaigns.media.images import jpeg
from tests.conftest import Cli, Clock
from tests.coopmail.web.admin.conftest import make_admin

BUCKET = "unit-media"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def bucket(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3", endpoint_url=s3_endpoint)
    if BUCKET not in [b["Name"] for b in client.list_buckets()["Buckets"]]:
        client.create_bucket(Bucket=BUCKET)
    return s3_endpoint


def test_the_store_keeps_files_in_the_bucket(bucket: str) -> None:
    store = S3Store.connect(bucket=BUCKET, prefix="media/", endpoint=bucket)
    store.put("a" * 32 + ".png", b"bytes")
    assert store.get("a" * 32 + ".png") == b"bytes"
    assert store.get("b" * 32 + ".png") is None
    assert store.get("../secret") is None
    stored = boto3.client("s3", endpoint_url=bucket).head_object(
        Bucket=BUCKET, Key="media/" + "a" * 32 + ".png"
    )
    assert stored["ContentType"] == "image/png"
    assert "immutable" in stored["CacheControl"]


def test_add_and_serve_through_the_bucket(
    bucket: str, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    admin = make_admin(
        engine,
        database_url,
        tmp_path,
        Clock(),
        COOPMAIL_MEDIA_S3_BUCKET=BUCKET,
        COOPMAIL_MEDIA_S3_ENDPOINT=bucket,
    )
    with session_scope(engine) as session:
        item = add_media(
            session,
            store=admin.context.media(),
            image=prepare_image(jpeg(1600, 800), name="x.jpg", limits=ImageLimits()),
            filename="x.jpg",
            alt_text="A hall",
            now=datetime.now(UTC),
        ).item
    assert not (tmp_path / "coopmail-data").exists()  # nothing on the local disk
    answer = admin.browser().get(f"/media/{item.email_name}")
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/jpeg"
    assert answer.content[:2] == b"\xff\xd8"


def test_the_cli_adds_to_the_bucket(bucket: str, run: Cli, tmp_path: Path) -> None:
    run.env.update(COOPMAIL_MEDIA_S3_BUCKET=BUCKET, COOPMAIL_MEDIA_S3_ENDPOINT=bucket)
    photo = tmp_path / "p.jpg"
    photo.write_bytes(jpeg())
    added = run.ok("media", "add", str(photo), "--alt", "A hall", "--json").json()
    name = added["url"].rsplit("/", 1)[1]
    keys = boto3.client("s3", endpoint_url=bucket).list_objects_v2(Bucket=BUCKET)["Contents"]
    assert "media/" + name in {key["Key"] for key in keys}
