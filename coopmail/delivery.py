"""Wiring for delivery: settings in, a configured worker out; SIGTERM stops it gracefully."""

from __future__ import annotations

import atexit
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine

from campaigns.worker import DeliveryWorker, Progress, SendingIdentity, WorkerSettings
from coopmail.config import Settings, capture_folder
from coopmail.db import for_writing
from coopmail.errors import ConfigError
from mailer.capture import CaptureServer
from mailer.dkim import DkimSigner
from mailer.errors import MailerError
from mailer.smtp import SmtpSettings

NO_SMTP = (
    "COOPMAIL_SMTP_URL is not set; set it to your relay (smtp://user:pass@host:587?starttls=true), "
    "or for a trial keep every message as a file with capture:///path/to/outbox"
)


def smtp_settings(settings: Settings) -> SmtpSettings:
    """How this process reaches its relay.

    For a ``capture:`` URL the relay is an SMTP server inside this process that keeps each
    message as an .eml file: mail takes the very same path as to a real relay (DKIM, the
    SMTP client, the socket), only the far end differs.
    """
    if not settings.smtp_url:
        raise ConfigError(NO_SMTP)
    folder = capture_folder(settings.smtp_url)
    url = _captures.url(folder) if folder is not None else settings.smtp_url
    try:
        return SmtpSettings.from_url(url)
    except MailerError as error:
        raise ConfigError(str(error)) from None


class _CaptureServers:
    """One embedded capture server per folder and process, started on first use and
    stopped when the process exits."""

    def __init__(self) -> None:
        self._servers: dict[Path, CaptureServer] = {}
        self._lock = threading.Lock()

    def url(self, folder: Path) -> str:
        with self._lock:
            server = self._servers.get(folder)
            if server is None:
                try:
                    server = CaptureServer(outbox=folder).start()
                except OSError as error:
                    raise ConfigError(
                        f"cannot keep mail in {folder} (COOPMAIL_SMTP_URL): {error.strerror}"
                    ) from None
                if not self._servers:
                    atexit.register(self.stop)
                self._servers[folder] = server
            return server.url

    def stop(self) -> None:
        with self._lock:
            for server in self._servers.values():
                server.stop()
            self._servers.clear()


_captures = _CaptureServers()


def dkim_domain(settings: Settings) -> str | None:
    """The domain messages are signed for, or None when no DKIM key is configured."""
    if not (settings.dkim_selector and settings.dkim_key_file):
        return None
    return settings.dkim_domain or settings.from_address.rpartition("@")[2].rstrip(">")


def sending_identity(settings: Settings) -> SendingIdentity:
    dkim = None
    domain = dkim_domain(settings)
    if domain is not None and settings.dkim_selector and settings.dkim_key_file:
        try:
            dkim = DkimSigner(
                selector=settings.dkim_selector,
                domain=domain,
                private_key=settings.dkim_key_file.read_bytes(),
            )
        except (OSError, MailerError) as error:
            raise ConfigError(f"DKIM: {error}") from None
    return SendingIdentity(
        base_url=settings.base_url,
        key=settings.require_secret_key().reveal().encode(),
        bounce_address=settings.bounce_address,
        verp=settings.verp,
        dkim=dkim,
        feedback_sender=settings.feedback_id,
    )


def make_worker(
    *,
    engine: Engine,
    settings: Settings,
    concurrency: int,
    lease_seconds: float = 120,
    campaign_ids: tuple[int, ...] | None = None,
    until_done: bool = False,
    stop: threading.Event | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    smtp: SmtpSettings | None = None,
) -> DeliveryWorker:
    return DeliveryWorker(
        engine=for_writing(engine),
        smtp=smtp or smtp_settings(settings),
        settings=WorkerSettings(
            concurrency=concurrency,
            lease=timedelta(seconds=lease_seconds),
            rate_per_second=settings.rate_per_second,
            rate_per_hour=settings.rate_per_hour,
            campaign_ids=campaign_ids,
            until_done=until_done,
        ),
        identity=sending_identity(settings),
        stop=stop,
        on_progress=on_progress,
    )


@contextmanager
def graceful_stop() -> Iterator[threading.Event]:
    """SIGTERM (and a first Ctrl-C) ask the worker to finish what is in flight and stop."""
    stop = threading.Event()

    def ask(signum: int, _frame: object) -> None:
        if stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        stop.set()

    previous = {sig: signal.signal(sig, ask) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
