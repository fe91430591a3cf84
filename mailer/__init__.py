"""SMTP transport, MIME and DKIM: turning finished text into sendable bytes.

This package knows nothing of the database, of subscribers or of campaigns; it imports
only the standard library, so the hot per-recipient path stays small and testable alone.
"""
