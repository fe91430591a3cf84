"""Errors raised by the address book; each message is one line a person can act on."""


class SubscribersError(Exception):
    """Base of every error this package raises on purpose."""


class InvalidAddress(SubscribersError):
    pass


class InvalidField(SubscribersError):
    pass


class ListNotFound(SubscribersError):
    def __init__(self, name: str) -> None:
        super().__init__(
            f"there is no list named {name!r}; see `coopmail lists list` "
            f"or create it with `coopmail lists create {name}`"
        )


class ListExists(SubscribersError):
    def __init__(self, name: str) -> None:
        super().__init__(f"a list named {name!r} already exists")


class SubscriberNotFound(SubscribersError):
    def __init__(self, email: str) -> None:
        super().__init__(f"no subscriber with the address {email!r}")


class AddressSuppressed(SubscribersError):
    def __init__(self, email: str, reason: str) -> None:
        super().__init__(
            f"{email} is suppressed ({reason}) and will not be subscribed; "
            "if the person asked to come back, remove it with "
            "`coopmail suppressions remove EMAIL`"
        )


class ImportFileError(SubscribersError):
    """The file as a whole cannot be imported (no header, no email column...)."""
