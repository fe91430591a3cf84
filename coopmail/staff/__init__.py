"""Staff accounts: who may use the admin and the CLI's `users` commands, and what they did.

Use cases of the app shell, shared by the CLI and the admin pages (which call them, never
the tables): ``accounts`` (create, find, roles, disable, profile), ``passwords`` (policy
and argon2id), ``second_factor`` (TOTP and recovery codes), ``links`` (reset and
first-login links), ``sessions`` (server-side sessions and their CSRF secret), ``login``
(the login flow and its throttles), ``roles`` (permissions and who may grant what) and
``audit`` (the append-only log). The tables are in ``models``.
"""
