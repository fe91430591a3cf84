"""Settings: flags over environment variables over coopmail.toml over defaults; clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from coopmail.config import Secret, capture_folder, load_settings
from coopmail.errors import ConfigError


def test_defaults_use_a_sqlite_file_in_the_working_directory(tmp_path: Path) -> None:
    settings = load_settings(environ={}, cwd=tmp_path)
    assert settings.database_url == f"sqlite:///{tmp_path / 'coopmail.db'}"
    assert settings.secret_key is None
    assert settings.sources["database_url"] == "default"
    assert settings.timezone == "UTC"


def test_flag_then_environment_then_file_then_default(tmp_path: Path) -> None:
    environ = {
        "COOPMAIL_DATABASE_URL": "postgresql://coop:pw@db.internal/coopmail",
        "COOPMAIL_SMTP_URL": "smtp://mailer:hunter2hunter2@relay.example.org:587?starttls=true",
        "COOPMAIL_BASE_URL": "https://news.example.org/",
        "COOPMAIL_SECRET_KEY": "0123456789abcdef0123",
    }
    (tmp_path / "coopmail.toml").write_text(
        'base_url = "https://mail.example.org"\nrecord_ip = true\n'
        'from = "Unit <unit@example.org>"\ntimezone = "Europe/Zurich"\n'
    )
    settings = load_settings(environ=environ, cwd=tmp_path, overrides={"timezone": "America/Lima"})
    assert settings.database_url == "postgresql+psycopg://coop:pw@db.internal/coopmail"
    assert settings.base_url == "https://news.example.org"  # the environment beats the file
    assert settings.sources["base_url"] == "environment"
    assert settings.from_address == "Unit <unit@example.org>"  # the file beats the default
    assert settings.sources["from"].endswith("coopmail.toml")
    assert settings.record_ip is True
    assert settings.timezone == "America/Lima"  # a flag beats them all
    assert settings.sources["timezone"] == "command line"
    assert settings.sources["misfire_grace"] == "default"
    assert isinstance(settings.secret_key, Secret)


def test_a_capture_url_names_a_folder_made_absolute(tmp_path: Path) -> None:
    settings = load_settings(environ={"COOPMAIL_SMTP_URL": "capture:outbox"}, cwd=tmp_path)
    assert settings.smtp_url == f"capture://{tmp_path / 'outbox'}"
    assert capture_folder(settings.smtp_url) == tmp_path / "outbox"
    assert capture_folder("smtp://relay.example.org") is None
    with pytest.raises(ConfigError, match="names a folder"):
        load_settings(environ={"COOPMAIL_SMTP_URL": "capture://host/x"}, cwd=tmp_path)


def test_secrets_are_never_shown(tmp_path: Path) -> None:
    settings = load_settings(
        environ={
            "COOPMAIL_DATABASE_URL": "postgresql+psycopg://coop:dbpassword@db/coopmail",
            "COOPMAIL_SMTP_URL": "smtps://user:smtppassword@relay.example.org:465",
            "COOPMAIL_SECRET_KEY": "averysecretkeyvalue123",
        },
        cwd=tmp_path,
    )
    shown = repr(settings.masked()) + repr(settings) + str(settings.secret_key)
    for secret in ("dbpassword", "smtppassword", "averysecretkeyvalue123"):
        assert secret not in shown
    assert settings.masked()["secret_key"] == "set (hidden)"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"COOPMAIL_DATABASE_URL": "mysql://x@y/z"}, "supports SQLite and PostgreSQL"),
        ({"COOPMAIL_DATABASE_URL": "not a url"}, "not a database URL"),
        ({"COOPMAIL_SMTP_URL": "http://relay"}, "COOPMAIL_SMTP_URL must look like"),
        ({"COOPMAIL_SMTP_URL": "smtp://relay:port"}, "port that is not a number"),
        ({"COOPMAIL_BASE_URL": "news.example.org"}, "http(s) URL"),
        ({"COOPMAIL_SECRET_KEY": "short"}, "coopmail config new-secret-key"),
        ({"COOPMAIL_FROM": "Unit <coop@example.org>\r\nBcc: x@y.org"}, "line breaks"),
        ({"COOPMAIL_FROM": "nobody"}, "must be an address"),
        ({"COOPMAIL_TIMEZONE": "Mars/Olympus"}, "time zone"),
        ({"COOPMAIL_RECORD_IP": "maybe"}, "true or false"),
        ({"COOPMAIL_FEEDBACK_ID": "coop unit:news"}, "only letters, digits"),
    ],
)
def test_bad_settings_say_what_is_wrong(
    tmp_path: Path, environ: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_settings(environ=environ, cwd=tmp_path)


def test_counts_left_empty_keep_their_defaults(tmp_path: Path) -> None:
    (tmp_path / "coopmail.toml").write_text('bounce_soft_limit = ""\nmisfire_grace = ""\n')
    settings = load_settings(environ={"COOPMAIL_BOUNCE_SOFT_DAYS": "7"}, cwd=tmp_path)
    assert (settings.bounce_soft_limit, settings.misfire_grace) == (5, 3600)
    assert (settings.bounce_soft_days, settings.confirm_max_age) == (7, 259200)


def test_bad_config_files(tmp_path: Path) -> None:
    path = tmp_path / "coopmail.toml"
    path.write_text("base_url = [")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(environ={}, cwd=tmp_path)
    path.write_text('databse_url = "sqlite:///x.db"\n')
    with pytest.raises(ConfigError, match="unknown setting 'databse_url'"):
        load_settings(environ={}, cwd=tmp_path)
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(environ={"COOPMAIL_CONFIG": str(tmp_path / "nope.toml")}, cwd=tmp_path)


def test_secret_key_is_required_where_links_are_issued(tmp_path: Path) -> None:
    settings = load_settings(environ={}, cwd=tmp_path)
    with pytest.raises(ConfigError, match="COOPMAIL_SECRET_KEY is not set: make one with"):
        settings.require_secret_key()


def test_the_feedback_id_sender_reaches_the_sending_identity(tmp_path: Path) -> None:
    from coopmail.delivery import sending_identity

    environ = {"COOPMAIL_SECRET_KEY": "averysecretkeyvalue123averysecretkey"}
    unset = load_settings(environ=environ, cwd=tmp_path)
    assert unset.feedback_id is None and sending_identity(unset).feedback_sender is None
    settings = load_settings(environ={**environ, "COOPMAIL_FEEDBACK_ID": "coopunit"}, cwd=tmp_path)
    assert settings.masked()["feedback_id"] == "coopunit"
    assert sending_identity(settings).feedback_sender == "coopunit"


def test_networks_allowed_for_fetching_are_read_and_a_wrong_one_named(tmp_path: Path) -> None:
    environ = {"COOPMAIL_FETCH_ALLOWED_NETWORKS": "10.20.0.0/16, 192.0.2.7;fd00::/8"}
    settings = load_settings(environ=environ, cwd=tmp_path)
    assert settings.masked()["fetch_allowed_networks"] == [
        "10.20.0.0/16",
        "192.0.2.7/32",
        "fd00::/8",
    ]
    assert load_settings(environ={}, cwd=tmp_path).fetch_allowed_networks == ()
    with pytest.raises(ConfigError, match=r"'intranet' is not a network such as 10\.20\.0\.0/16"):
        load_settings(environ={"COOPMAIL_FETCH_ALLOWED_NETWORKS": "intranet"}, cwd=tmp_path)
