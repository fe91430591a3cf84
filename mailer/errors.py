"""Errors raised by the mailer, one hierarchy so callers can catch MailerError alone.

Each message is one line naming what was wrong. Value errors also derive from ValueError,
because that is what they are to code that does not know this package.
"""


class MailerError(Exception):
    """Base of every error this package raises on purpose."""


class InvalidHeader(MailerError, ValueError):
    """A header name or value that would be malformed or could inject other headers."""


class InvalidBody(MailerError, ValueError):
    """A body text that cannot be encoded (an undecodable character)."""


# SMTP failures (temporary or permanent, per recipient) are not raised: mailer.smtp returns
# them as results, because the delivery worker must record every one of them.


class InvalidAddress(MailerError, ValueError):
    """An envelope address that cannot go into MAIL FROM or RCPT TO (it could inject commands)."""


class InvalidSmtpSettings(MailerError, ValueError):
    """SMTP settings that cannot work (bad port, timeout, half the credentials...)."""


class InvalidSmtpUrl(InvalidSmtpSettings):
    """An SMTP URL that cannot be read; the message never repeats the password."""


class InvalidDkimKey(MailerError, ValueError):
    """A DKIM private key that is neither a PEM RSA key nor a PEM Ed25519 key."""


class InvalidMessage(MailerError, ValueError):
    """Message bytes SMTP cannot carry as they are: a bare CR or LF instead of CRLF."""
