"""Campaigns: compose from templates, render once, queue in the outbox, schedule, send.

Uses `subscribers` (who receives) and `mailer` (how bytes leave); never the app shell.
"""
