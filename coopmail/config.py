"""Settings: a command-line flag, else a COOPMAIL_* environment variable, else the optional
coopmail.toml, else the default.

The environment wins over the file, as containers, systemd units and CI expect: the file
holds a site's settings, and a deployment adjusts one of them without editing it.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from campaigns.senders import Sender, find_sender, parse_senders
from coopmail.errors import ConfigError
from coopmail.remote_images import Network
from mailer.errors import InvalidHeader
from mailer.headers import check_feedback_sender

ENV_PREFIX = "COOPMAIL_"
CONFIG_FILE_NAME = "coopmail.toml"
NEW_KEY_HINT = (
    "make one with `coopmail config new-secret-key` and set it as COOPMAIL_SECRET_KEY "
    "(or secret_key in coopmail.toml)"
)


class Secret:
    """A value that never prints itself."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__


@dataclass(frozen=True)
class _Option:
    key: str
    default: str | None
    help: str


OPTIONS = (
    _Option("database_url", None, "SQLAlchemy URL; default: SQLite file coopmail.db here"),
    _Option(
        "smtp_url",
        None,
        "smtp://user:pass@host:port, ?starttls=true, smtps://, or capture:///folder "
        "(keep each message as an .eml file there instead of sending it)",
    ),
    _Option("base_url", "http://localhost:8000", "public base URL for links in mail"),
    _Option("secret_key", None, "signs unsubscribe/confirm/preferences tokens"),
    _Option("from", "Cooperatives Unit <coop@example.org>", "default sender"),
    _Option(
        "senders",
        None,
        "the From addresses campaigns may use, each with an optional Reply-To: "
        "'Unit <coop@example.org> | replies@example.org; News <news@example.org>'; "
        "set, a campaign's From must be one of them or the from setting",
    ),
    _Option("timezone", "UTC", "the unit's time zone for showing and entering times"),
    _Option("record_ip", "false", "store the IP address with consent records"),
    _Option("templates_dir", None, "staff templates (and unit.toml) used before the built-in ones"),
    _Option(
        "data_dir",
        None,
        "files coopmail keeps: uploaded images, imports and their rejects; "
        "default: coopmail-data here",
    ),
    _Option(
        "fetch_allowed_networks",
        None,
        "networks inside the unit's own (comma-separated, such as 10.20.0.0/16) that the "
        "admin may fetch news feeds and campaign images from, such as the unit's intranet "
        "website; default: none, every address inside is refused",
    ),
    _Option("media_s3_bucket", None, "keep uploaded images in this S3 bucket instead of data_dir"),
    _Option("media_s3_prefix", "media/", "the start of every image's key in the bucket"),
    _Option("media_s3_endpoint", None, "an S3-compatible service's URL; default: AWS"),
    _Option("bounce_address", None, "envelope sender (Return-Path); default: the From address"),
    _Option("verp", "false", "a bounce address per message (bounces+d123.sig@...)"),
    _Option("dkim_selector", None, "DKIM selector; with dkim_key_file, messages are signed"),
    _Option("dkim_domain", None, "DKIM signing domain; default: the From address's domain"),
    _Option("dkim_key_file", None, "PEM private key for DKIM (RSA or Ed25519)"),
    _Option(
        "feedback_id",
        None,
        "sender name in every Feedback-ID (campaign:list:kind:name; system:mail:name), for Gmail's "
        "feedback loop; unset: no Feedback-ID",
    ),
    _Option("rate_per_second", None, "at most this many messages a second, per worker"),
    _Option("rate_per_hour", None, "at most this many messages an hour, all workers together"),
    _Option("misfire_grace", "3600", "seconds late a scheduled send may still start"),
    _Option("confirm_max_age", "259200", "seconds a subscription confirmation link is valid"),
    _Option(
        "preferences_max_age",
        "15552000",
        "seconds a preferences link is valid; every mail carries a fresh one",
    ),
    _Option("bounce_hard_limit", "1", "hard bounces that suppress an address"),
    _Option("bounce_soft_limit", "5", "soft bounces within bounce_soft_days that suppress"),
    _Option("bounce_soft_days", "30", "the window soft bounces are counted in, in days"),
    _Option("session_idle_timeout", "28800", "seconds an idle staff session stays logged in"),
    _Option("session_lifetime", "604800", "seconds a staff session lasts at most, idle or not"),
    _Option("api_rate_limit", "600", "API requests a minute per key; more get 429"),
)
_KEYS = {option.key for option in OPTIONS}
_DEFAULTS = {option.key: option.default for option in OPTIONS}
_SECRET_KEY_MIN = 16


@dataclass(frozen=True, kw_only=True, repr=False)
class Settings:
    database_url: str
    smtp_url: str | None
    base_url: str
    secret_key: Secret | None
    from_address: str
    # Empty when not configured: any From is then accepted.
    senders: tuple[Sender, ...]
    timezone: str
    record_ip: bool
    templates_dir: Path | None
    data_dir: Path
    # Addresses inside this network that fetching may reach anyway (coopmail.remote_images).
    fetch_allowed_networks: tuple[Network, ...]
    media_s3_bucket: str | None
    media_s3_prefix: str
    media_s3_endpoint: str | None
    bounce_address: str | None
    verp: bool
    dkim_selector: str | None
    dkim_domain: str | None
    dkim_key_file: Path | None
    feedback_id: str | None
    rate_per_second: float | None
    rate_per_hour: int | None
    misfire_grace: int
    confirm_max_age: int
    preferences_max_age: int
    bounce_hard_limit: int
    bounce_soft_limit: int
    bounce_soft_days: int
    session_idle_timeout: int
    session_lifetime: int
    api_rate_limit: int
    sources: Mapping[str, str]
    config_file: Path | None

    def sender_choices(self) -> tuple[Sender, ...]:
        """The senders a campaign may pick from, the default first: what a form offers."""
        return self.senders or (Sender(from_address=self.from_address),)

    def require_secret_key(self) -> Secret:
        if self.secret_key is None:
            raise ConfigError(f"COOPMAIL_SECRET_KEY is not set: {NEW_KEY_HINT}")
        return self.secret_key

    def __repr__(self) -> str:  # URLs carry passwords: never print them, even in a traceback
        return f"Settings({self.masked()!r})"

    def masked(self) -> dict[str, Any]:
        """The effective settings with every secret hidden, for `config show`."""
        return {
            "database_url": make_url(self.database_url).render_as_string(hide_password=True),
            "smtp_url": _mask_url(self.smtp_url) if self.smtp_url else None,
            "base_url": self.base_url,
            "secret_key": "set (hidden)" if self.secret_key else "not set",
            "from": self.from_address,
            "senders": [
                f"{sender.from_address} | {sender.reply_to}"
                if sender.reply_to
                else sender.from_address
                for sender in self.senders
            ],
            "timezone": self.timezone,
            "record_ip": self.record_ip,
            "templates_dir": str(self.templates_dir) if self.templates_dir else None,
            "data_dir": str(self.data_dir),
            "fetch_allowed_networks": [str(network) for network in self.fetch_allowed_networks],
            "media_s3_bucket": self.media_s3_bucket,
            "media_s3_prefix": self.media_s3_prefix,
            "media_s3_endpoint": self.media_s3_endpoint,
            "bounce_address": self.bounce_address,
            "verp": self.verp,
            "dkim_selector": self.dkim_selector,
            "dkim_domain": self.dkim_domain,
            "dkim_key_file": str(self.dkim_key_file) if self.dkim_key_file else None,
            "feedback_id": self.feedback_id,
            "rate_per_second": self.rate_per_second,
            "rate_per_hour": self.rate_per_hour,
            "misfire_grace": self.misfire_grace,
            "confirm_max_age": self.confirm_max_age,
            "preferences_max_age": self.preferences_max_age,
            "bounce_hard_limit": self.bounce_hard_limit,
            "bounce_soft_limit": self.bounce_soft_limit,
            "bounce_soft_days": self.bounce_soft_days,
            "session_idle_timeout": self.session_idle_timeout,
            "session_lifetime": self.session_lifetime,
            "api_rate_limit": self.api_rate_limit,
        }


COMMAND_LINE = "command line"
ENVIRONMENT = "environment"
DEFAULT = "default"


def load_settings(
    *,
    environ: Mapping[str, str] | None = None,
    config_file: Path | None = None,
    cwd: Path | None = None,
    overrides: Mapping[str, str] | None = None,
) -> Settings:
    """The effective settings; ``overrides`` are the values given as command-line flags."""
    environ = os.environ if environ is None else environ
    cwd = cwd or Path.cwd()
    values: dict[str, str | None] = {option.key: option.default for option in OPTIONS}
    sources: dict[str, str] = dict.fromkeys(values, DEFAULT)

    path = config_file or _config_path(environ, cwd)
    if path is not None:
        for key, value in read_toml(path).items():
            values[key], sources[key] = value, str(path)
    for option in OPTIONS:
        env_name = ENV_PREFIX + option.key.upper()
        if environ.get(env_name):
            values[option.key], sources[option.key] = environ[env_name], ENVIRONMENT
    for key, value in (overrides or {}).items():
        if key not in _KEYS:
            raise ValueError(f"unknown setting {key!r}")  # a bug in the caller, not input
        values[key], sources[key] = value, COMMAND_LINE

    return Settings(
        database_url=_database_url(values["database_url"] or f"sqlite:///{cwd / 'coopmail.db'}"),
        smtp_url=_smtp_url(values["smtp_url"], cwd),
        base_url=_base_url(values["base_url"] or ""),
        secret_key=_secret_key(values["secret_key"]),
        from_address=_from_address(values["from"] or ""),
        senders=_senders(values["senders"], values["from"] or ""),
        timezone=_timezone(values["timezone"] or "UTC"),
        record_ip=_boolean("record_ip", values["record_ip"] or "false"),
        templates_dir=_templates_dir(values["templates_dir"], cwd),
        data_dir=(cwd / (values["data_dir"] or "coopmail-data")).resolve(),
        fetch_allowed_networks=_networks(values["fetch_allowed_networks"]),
        media_s3_bucket=values["media_s3_bucket"] or None,
        media_s3_prefix=values["media_s3_prefix"] or "",
        media_s3_endpoint=values["media_s3_endpoint"] or None,
        bounce_address=_bounce_address(values["bounce_address"]),
        verp=_boolean("verp", values["verp"] or "false"),
        dkim_selector=values["dkim_selector"] or None,
        dkim_domain=values["dkim_domain"] or None,
        dkim_key_file=_key_file(values["dkim_key_file"], values["dkim_selector"], cwd),
        feedback_id=_feedback_id(values["feedback_id"]),
        rate_per_second=_positive("rate_per_second", values["rate_per_second"], float),
        rate_per_hour=_positive("rate_per_hour", values["rate_per_hour"], int),
        misfire_grace=_count("misfire_grace", values["misfire_grace"]),
        confirm_max_age=_count("confirm_max_age", values["confirm_max_age"]),
        preferences_max_age=_count("preferences_max_age", values["preferences_max_age"]),
        bounce_hard_limit=_count("bounce_hard_limit", values["bounce_hard_limit"]),
        bounce_soft_limit=_count("bounce_soft_limit", values["bounce_soft_limit"]),
        bounce_soft_days=_count("bounce_soft_days", values["bounce_soft_days"]),
        session_idle_timeout=_count("session_idle_timeout", values["session_idle_timeout"]),
        session_lifetime=_count("session_lifetime", values["session_lifetime"]),
        api_rate_limit=_count("api_rate_limit", values["api_rate_limit"]),
        sources=sources,
        config_file=path,
    )


def _networks(value: str | None) -> tuple[Network, ...]:
    networks = []
    for part in (value or "").replace(";", ",").split(","):
        if part.strip():
            try:
                networks.append(ipaddress.ip_network(part.strip(), strict=False))
            except ValueError:
                raise ConfigError(
                    f"COOPMAIL_FETCH_ALLOWED_NETWORKS: {part.strip()!r} is not a network "
                    "such as 10.20.0.0/16 or 192.0.2.7"
                ) from None
    return tuple(networks)


def _senders(value: str | None, default: str) -> tuple[Sender, ...]:
    """The configured senders, the ``from`` setting first when it is not among them."""
    if not value:
        return ()
    try:
        senders = parse_senders(value)
    except ValueError as error:
        raise ConfigError(f"COOPMAIL_SENDERS: {error}") from None
    first = Sender(from_address=default)
    if default and find_sender(senders, from_address=default) is None:
        senders.insert(0, first)
    return tuple(senders)


def _config_path(environ: Mapping[str, str], cwd: Path) -> Path | None:
    if environ.get("COOPMAIL_CONFIG"):
        return Path(environ["COOPMAIL_CONFIG"])
    candidate = cwd / CONFIG_FILE_NAME
    return candidate if candidate.is_file() else None


def read_toml(path: Path) -> dict[str, str]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"the configuration file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read the configuration file {path}: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path} is not valid TOML: {error}") from None
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise ConfigError(
            f"{path}: unknown setting {unknown[0]!r}; known settings: {', '.join(sorted(_KEYS))}"
        )
    result = {}
    for key, raw in data.items():
        value = ("true" if raw else "false") if isinstance(raw, bool) else raw
        if not isinstance(value, str):
            raise ConfigError(f"{path}: {key} must be a string")
        result[key] = value
    return result


def _database_url(value: str) -> str:
    for legacy in ("postgres://", "postgresql://"):
        if value.startswith(legacy):  # psycopg 3 is the driver we ship
            value = "postgresql+psycopg://" + value[len(legacy) :]
    try:
        url = make_url(value)
    except ArgumentError:
        raise ConfigError(
            "COOPMAIL_DATABASE_URL is not a database URL; use sqlite:///path/to/coopmail.db "
            "or postgresql+psycopg://user@host/dbname"
        ) from None
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(
            f"COOPMAIL_DATABASE_URL uses {url.get_backend_name()!r}; coopmail supports "
            "SQLite and PostgreSQL"
        )
    return value


CAPTURE_SCHEME = "capture"


def capture_folder(smtp_url: str | None) -> Path | None:
    """The folder of a ``capture:`` SMTP URL (made absolute when the settings load)."""
    if not smtp_url:
        return None
    parts = urlsplit(smtp_url)
    return Path(parts.path) if parts.scheme == CAPTURE_SCHEME else None


def _smtp_url(value: str | None, cwd: Path) -> str | None:
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme == CAPTURE_SCHEME:
        if parts.netloc or not parts.path or parts.query:
            raise ConfigError(
                "COOPMAIL_SMTP_URL capture:///absolute/path/to/outbox names a folder, "
                "with three slashes and nothing after the path"
            )
        return f"{CAPTURE_SCHEME}://{(cwd / parts.path).resolve()}"
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigError(
            "COOPMAIL_SMTP_URL must look like smtp://user:pass@host:587?starttls=true, "
            "smtps://user:pass@host:465 or capture:///path/to/outbox"
        )
    try:
        _ = parts.port
    except ValueError:
        raise ConfigError("COOPMAIL_SMTP_URL has a port that is not a number") from None
    return value


def _mask_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.password is None:
        return value
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _base_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            "COOPMAIL_BASE_URL must be an http(s) URL such as https://news.example.org"
        )
    return value.rstrip("/")


def _secret_key(value: str | None) -> Secret | None:
    if not value:
        return None
    if len(value) < _SECRET_KEY_MIN:
        raise ConfigError(
            f"COOPMAIL_SECRET_KEY is shorter than {_SECRET_KEY_MIN} characters; {NEW_KEY_HINT}"
        )
    return Secret(value)


def _from_address(value: str) -> str:
    if any(char in value for char in "\r\n\x00"):
        raise ConfigError("COOPMAIL_FROM must not contain line breaks or NUL")
    _, address = parseaddr(value)
    if "@" not in address:
        raise ConfigError(
            "COOPMAIL_FROM must be an address, such as 'Cooperatives Unit <coop@example.org>'"
        )
    return value


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"COOPMAIL_TIMEZONE {value!r} is not a time zone name such as Europe/Zurich"
        ) from None
    return value


def _templates_dir(value: str | None, cwd: Path) -> Path | None:
    if not value:
        return None
    path = (cwd / value).resolve()
    if not path.is_dir():
        raise ConfigError(f"COOPMAIL_TEMPLATES_DIR {value!r} is not a folder")
    return path


def _bounce_address(value: str | None) -> str | None:
    if not value:
        return None
    _, address = parseaddr(value)
    if address != value.strip() or "@" not in address or any(c in value for c in "\r\n\x00"):
        raise ConfigError(
            "COOPMAIL_BOUNCE_ADDRESS must be a bare address such as bounces@example.org"
        )
    return address


def _feedback_id(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return check_feedback_sender(sender=value.strip())
    except InvalidHeader:
        raise ConfigError(
            f"COOPMAIL_FEEDBACK_ID {value!r} may hold only letters, digits, '.', '_' and '-' "
            "(at most 64), such as coopunit"
        ) from None


def _key_file(value: str | None, selector: str | None, cwd: Path) -> Path | None:
    if not value and not selector:
        return None
    if not value or not selector:
        raise ConfigError(
            "DKIM needs both COOPMAIL_DKIM_SELECTOR and COOPMAIL_DKIM_KEY_FILE (see docs/dns.md)"
        )
    path = (cwd / value).resolve()
    if not path.is_file():
        raise ConfigError(f"COOPMAIL_DKIM_KEY_FILE {value!r} is not a file")
    return path


def _positive(key: str, value: str | None, kind: type[float] | type[int]) -> Any:
    if not value:
        return None
    try:
        number = kind(value)
    except ValueError:
        number = 0
    if number <= 0:
        raise ConfigError(f"COOPMAIL_{key.upper()} must be a positive number, not {value!r}")
    return number


def _count(key: str, value: str | None) -> int:
    """A whole number a setting always has: left empty, it is its default."""
    number: int = _positive(key, value or _DEFAULTS[key], int)
    return number


def _boolean(key: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"COOPMAIL_{key.upper()} must be true or false, not {value!r}")
