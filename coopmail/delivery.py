"""Wiring for delivery: settings in, a configured worker out; SIGTERM stops it gracefully."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import Engine

from campaigns.worker import DeliveryWorker, Progress, SendingIdentity, WorkerSettings
from coopmail.config import Settings
from coopmail.db import for_writing
from coopmail.errors import ConfigError
from mailer.dkim import DkimSigner
from mailer.errors import MailerError
from mailer.smtp import SmtpSettings

NO_SMTP = (
    "COOPMAIL_SMTP_URL is not set; set it to your relay (smtp://user:pass@host:587?starttls=true), "
    "or for a local trial run `coopmail dev-smtp --outbox DIR` and use smtp://127.0.0.1:1025"
)


def smtp_settings(settings: Settings) -> SmtpSettings:
    if not settings.smtp_url:
        raise ConfigError(NO_SMTP)
    try:
        return SmtpSettings.from_url(settings.smtp_url)
    except MailerError as error:
        raise ConfigError(str(error)) from None


def sending_identity(settings: Settings) -> SendingIdentity:
    dkim = None
    if settings.dkim_selector and settings.dkim_key_file:
        domain = settings.dkim_domain or settings.from_address.rpartition("@")[2].rstrip(">")
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
