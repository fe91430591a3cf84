"""Errors raised by the address book.

Each carries what went wrong as fields and says it in one neutral line; the shell (command
line, API, admin) adds what to do next in its own terms.
"""


class SubscribersError(Exception):
    """Base of every error this package raises on purpose."""


class InvalidAddress(SubscribersError):
    pass


class InvalidField(SubscribersError):
    pass


class InvalidLanguage(InvalidField):
    """A value given as a language that is not a language tag."""

    def __init__(self, *, value: str) -> None:
        self.value = value
        super().__init__(f"language {value!r} is not a language tag such as en, fr or pt-BR")


class InvalidTimeZone(InvalidField):
    """A value given as a time zone that is not an IANA zone name."""

    def __init__(self, *, value: str) -> None:
        self.value = value
        super().__init__(
            f"time zone {value!r} is not a zone name such as Europe/Paris or America/Bogota"
        )


class ListNotFound(SubscribersError):
    def __init__(self, name: str) -> None:
        super().__init__(f"there is no list named {name!r}")
        self.name = name


class ListExists(SubscribersError):
    def __init__(self, name: str) -> None:
        super().__init__(f"a list named {name!r} already exists")
        self.name = name


class SubscriberNotFound(SubscribersError):
    def __init__(self, email: str) -> None:
        super().__init__(f"no subscriber with the address {email!r}")
        self.email = email


class AddressSuppressed(SubscribersError):
    def __init__(self, email: str, reason: str) -> None:
        super().__init__(f"{email} is suppressed ({reason}) and will not be subscribed")
        self.email = email
        self.reason = reason


class ImportFileError(SubscribersError):
    """The file as a whole cannot be imported (no header, no email column...)."""
