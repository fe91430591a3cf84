"""SMTP transport, MIME and DKIM: turning finished text into sendable bytes and sending them.

This package knows nothing of the database, of subscribers or of campaigns. MIME and the
SMTP client use only the standard library, so the per-recipient path stays small and
testable alone; DKIM uses dkimpy and cryptography, the capture server aiosmtpd.
"""
