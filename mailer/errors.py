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


# SMTP errors (temporary / permanent failures, per recipient) will derive from MailerError.
