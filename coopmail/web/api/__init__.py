"""The JSON API under /api/v1: API keys, one error shape, the same use cases as the CLI.

A sibling of the public pages and the staff admin: it imports neither; what they share
(the context, security headers, rate limits, the system mails) lives in ``coopmail.web``.
"""
