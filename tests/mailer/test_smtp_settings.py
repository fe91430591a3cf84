"""SmtpSettings.from_url reads every documented form, and the password never shows."""

from __future__ import annotations

import pytest

from mailer.errors import InvalidSmtpSettings, InvalidSmtpUrl, MailerError
from mailer.smtp import Security, SmtpSettings

PASSWORD = "S3cr3t-Pw"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.org", {"host": "mail.example.org", "port": 25}),
        ("smtp://mail.example.org:2525", {"port": 2525, "security": Security.NONE}),
        (
            "smtp://unit:pw@mail.example.org:587?starttls=true",
            {"port": 587, "security": Security.STARTTLS, "username": "unit", "password": "pw"},
        ),
        ("smtp://mail.example.org?starttls=true", {"port": 587, "security": Security.STARTTLS}),
        ("smtp://mail.example.org:25?starttls=yes", {"port": 25, "security": Security.STARTTLS}),
        (
            "smtps://unit:pw@mail.example.org",
            {"port": 465, "security": Security.TLS, "username": "unit"},
        ),
        ("SMTPS://mail.example.org:2465/", {"port": 2465, "security": Security.TLS}),
        (
            "smtp://u%40example.org:p%40ss%3Aw%2Fo%3Frd%23%25@[::1]:25",
            {"host": "::1", "username": "u@example.org", "password": "p@ss:w/o?rd#%"},
        ),
        (
            "smtp://h?timeout=2.5&max_messages=10&verify=false&helo=sender.example.org",
            {
                "timeout": 2.5,
                "max_messages_per_connection": 10,
                "verify_tls": False,
                "local_hostname": "sender.example.org",
            },
        ),
        (
            "smtp://h",
            {
                "timeout": 30.0,
                "max_messages_per_connection": 100,
                "verify_tls": True,
                "local_hostname": None,
                "username": None,
                "password": None,
            },
        ),
    ],
)
def test_from_url(url: str, expected: dict[str, object]) -> None:
    settings = SmtpSettings.from_url(url)

    assert {name: getattr(settings, name) for name in expected} == expected


BAD_URLS = [
    ("http://mail.example.org", "smtp:// or smtps://"),
    ("mail.example.org:25", "smtp:// or smtps://"),
    ("smtp://", "host is missing"),
    (f"smtp://unit:{PASSWORD}@:25", "host is missing"),
    (f"smtp://unit:{PASSWORD}@mail.example.org:99999", "port must be 1 to 65535"),
    (f"smtp://unit:{PASSWORD}@mail.example.org:2x5", "port must be 1 to 65535"),
    (f"smtp://unit:{PASSWORD}@h?tls=true", "unknown parameter 'tls'"),
    (f"smtp://unit:{PASSWORD}@h?starttls=maybe", "starttls must be true or false"),
    (f"smtp://unit:{PASSWORD}@h?timeout=soon", "timeout must be a number"),
    (f"smtp://unit:{PASSWORD}@h?timeout=0", "timeout must be positive"),
    (f"smtp://unit:{PASSWORD}@h?timeout=nan", "timeout must be positive"),
    (f"smtp://unit:{PASSWORD}@h?max_messages=0", "at least 1"),
    (f"smtp://unit:{PASSWORD}@h?max_messages=1.5", "max_messages must be an integer"),
    (f"smtp://unit:{PASSWORD}@h?verify=false&verify=true", "given twice"),
    (f"smtp://unit:{PASSWORD}@h?helo=two%20words", "EHLO name"),
    (f"smtps://unit:{PASSWORD}@h?starttls=true", "smtps:// is TLS from the start"),
    (f"smtp://unit:{PASSWORD}@h/path", "path"),
    (f"smtp://unit:{PASSWORD}@h#x", "#fragment"),
    ("smtp://unit@h", "needs a password"),
    ("smtp://unit:@h", "needs a password"),
    # Unencoded specials in the password cut the URL at the wrong place.
    ("smtp://unit:S3c/r3t-Pw@h", "percent-encode"),
    ("smtp://unit:S3c?r3t-Pw@h", "percent-encode"),
    ("smtp://unit:S3c#r3t-Pw@h", "percent-encode"),
]


@pytest.mark.parametrize(("url", "problem"), BAD_URLS)
def test_a_bad_url_says_what_is_wrong_in_one_line_without_the_password(
    url: str, problem: str
) -> None:
    with pytest.raises(InvalidSmtpUrl) as raised:
        SmtpSettings.from_url(url)

    message = str(raised.value)
    assert problem in message
    assert message.startswith("invalid SMTP URL: ")
    assert "\n" not in message
    for secret in (PASSWORD, "S3c", "r3t-Pw"):
        assert secret not in message
    assert raised.value.__cause__ is None
    assert isinstance(raised.value, MailerError)
    assert isinstance(raised.value, ValueError)


def test_repr_and_str_never_show_the_password() -> None:
    settings = SmtpSettings.from_url(f"smtp://unit:{PASSWORD}@mail.example.org?starttls=true")

    for shown in (repr(settings), str(settings), f"{settings}", repr([settings])):
        assert PASSWORD not in shown
        assert "password='***'" in shown
        assert "username='unit'" in shown
    assert settings.password == PASSWORD
    assert "password=None" in repr(SmtpSettings(host="h"))


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"port": 0}, "port"),
        ({"port": True}, "port"),
        ({"timeout": -1.0}, "timeout"),
        ({"max_messages_per_connection": 0}, "max_messages_per_connection"),
        ({"username": "unit"}, "both a user name and a password"),
        ({"password": PASSWORD}, "both a user name and a password"),
        ({"security": "ssl"}, "security must be one of none, starttls, tls"),
        ({"host": "bad host"}, "host"),
        ({"local_hostname": "bad\r\nname"}, "EHLO name"),
    ],
)
def test_settings_are_checked(changes: dict[str, object], problem: str) -> None:
    with pytest.raises(InvalidSmtpSettings, match=problem) as raised:
        SmtpSettings(**{"host": "mail.example.org", **changes})  # type: ignore[arg-type]

    assert PASSWORD not in str(raised.value)


def test_security_accepts_its_string_value() -> None:
    assert SmtpSettings(host="h", security="starttls").security is Security.STARTTLS  # type: ignore[arg-type]
