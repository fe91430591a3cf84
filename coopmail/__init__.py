"""The app shell: configuration, database session, command line (and later web and scheduler)."""

__version__ = "0.1.0"
