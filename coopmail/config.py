"""Settings from COOPMAIL_* environment variables, overridden by an optional coopmail.toml."""

from __future__ import annotations

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

from coopmail.errors import ConfigError

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
    _Option("smtp_url", None, "smtp://user:pass@host:port, ?starttls=true, or smtps://"),
    _Option("base_url", "http://localhost:8000", "public base URL for links in mail"),
    _Option("secret_key", None, "signs unsubscribe/confirm/preferences tokens"),
    _Option("from", "Cooperatives Unit <coop@example.org>", "default sender"),
    _Option("timezone", "UTC", "the unit's time zone for showing and entering times"),
    _Option("record_ip", "false", "store the IP address with consent records"),
    _Option("templates_dir", None, "staff templates (and unit.toml) used before the built-in ones"),
    _Option("bounce_address", None, "envelope sender (Return-Path); default: the From address"),
    _Option("verp", "false", "a bounce address per message (bounces+d123.sig@...)"),
    _Option("dkim_selector", None, "DKIM selector; with dkim_key_file, messages are signed"),
    _Option("dkim_domain", None, "DKIM signing domain; default: the From address's domain"),
    _Option("dkim_key_file", None, "PEM private key for DKIM (RSA or Ed25519)"),
    _Option("rate_per_second", None, "at most this many messages a second, per worker"),
    _Option("rate_per_hour", None, "at most this many messages an hour, all workers together"),
    _Option("misfire_grace", "3600", "seconds late a scheduled send may still start"),
    _Option("confirm_max_age", "259200", "seconds a subscription confirmation link is valid"),
    _Option("bounce_hard_limit", "1", "hard bounces that suppress an address"),
    _Option("bounce_soft_limit", "5", "soft bounces within bounce_soft_days that suppress"),
    _Option("bounce_soft_days", "30", "the window soft bounces are counted in, in days"),
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
    timezone: str
    record_ip: bool
    templates_dir: Path | None
    bounce_address: str | None
    verp: bool
    dkim_selector: str | None
    dkim_domain: str | None
    dkim_key_file: Path | None
    rate_per_second: float | None
    rate_per_hour: int | None
    misfire_grace: int
    confirm_max_age: int
    bounce_hard_limit: int
    bounce_soft_limit: int
    bounce_soft_days: int
    sources: Mapping[str, str]
    config_file: Path | None

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
            "timezone": self.timezone,
            "record_ip": self.record_ip,
            "templates_dir": str(self.templates_dir) if self.templates_dir else None,
            "bounce_address": self.bounce_address,
            "verp": self.verp,
            "dkim_selector": self.dkim_selector,
            "dkim_domain": self.dkim_domain,
            "dkim_key_file": str(self.dkim_key_file) if self.dkim_key_file else None,
            "rate_per_second": self.rate_per_second,
            "rate_per_hour": self.rate_per_hour,
            "misfire_grace": self.misfire_grace,
            "confirm_max_age": self.confirm_max_age,
            "bounce_hard_limit": self.bounce_hard_limit,
            "bounce_soft_limit": self.bounce_soft_limit,
            "bounce_soft_days": self.bounce_soft_days,
        }


def load_settings(
    *,
    environ: Mapping[str, str] | None = None,
    config_file: Path | None = None,
    cwd: Path | None = None,
) -> Settings:
    environ = os.environ if environ is None else environ
    cwd = cwd or Path.cwd()
    values: dict[str, str | None] = {}
    sources: dict[str, str] = {}
    for option in OPTIONS:
        values[option.key], sources[option.key] = option.default, "default"
        env_name = ENV_PREFIX + option.key.upper()
        if environ.get(env_name):
            values[option.key], sources[option.key] = environ[env_name], "environment"

    path = config_file or _config_path(environ, cwd)
    if path is not None:
        for key, value in _read_toml(path).items():
            values[key], sources[key] = value, str(path)

    return Settings(
        database_url=_database_url(values["database_url"] or f"sqlite:///{cwd / 'coopmail.db'}"),
        smtp_url=_smtp_url(values["smtp_url"]),
        base_url=_base_url(values["base_url"] or ""),
        secret_key=_secret_key(values["secret_key"]),
        from_address=_from_address(values["from"] or ""),
        timezone=_timezone(values["timezone"] or "UTC"),
        record_ip=_boolean("record_ip", values["record_ip"] or "false"),
        templates_dir=_templates_dir(values["templates_dir"], cwd),
        bounce_address=_bounce_address(values["bounce_address"]),
        verp=_boolean("verp", values["verp"] or "false"),
        dkim_selector=values["dkim_selector"] or None,
        dkim_domain=values["dkim_domain"] or None,
        dkim_key_file=_key_file(values["dkim_key_file"], values["dkim_selector"], cwd),
        rate_per_second=_positive("rate_per_second", values["rate_per_second"], float),
        rate_per_hour=_positive("rate_per_hour", values["rate_per_hour"], int),
        misfire_grace=_count("misfire_grace", values["misfire_grace"]),
        confirm_max_age=_count("confirm_max_age", values["confirm_max_age"]),
        bounce_hard_limit=_count("bounce_hard_limit", values["bounce_hard_limit"]),
        bounce_soft_limit=_count("bounce_soft_limit", values["bounce_soft_limit"]),
        bounce_soft_days=_count("bounce_soft_days", values["bounce_soft_days"]),
        sources=sources,
        config_file=path,
    )


def _config_path(environ: Mapping[str, str], cwd: Path) -> Path | None:
    if environ.get("COOPMAIL_CONFIG"):
        return Path(environ["COOPMAIL_CONFIG"])
    candidate = cwd / CONFIG_FILE_NAME
    return candidate if candidate.is_file() else None


def _read_toml(path: Path) -> dict[str, str]:
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


def _smtp_url(value: str | None) -> str | None:
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigError(
            "COOPMAIL_SMTP_URL must look like smtp://user:pass@host:587?starttls=true "
            "or smtps://user:pass@host:465"
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


def _key_file(value: str | None, selector: str | None, cwd: Path) -> Path | None:
    if not value and not selector:
        return None
    if not value or not selector:
        raise ConfigError(
            "DKIM needs both COOPMAIL_DKIM_SELECTOR and COOPMAIL_DKIM_KEY_FILE (see README, DNS)"
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
