"""Errors of the app shell; each message is one line saying what to do next."""


class CoopmailError(Exception):
    """Base of the shell's own errors."""


class ConfigError(CoopmailError):
    pass


class DatabaseError(CoopmailError):
    pass


class SchemaBehind(DatabaseError):
    pass
