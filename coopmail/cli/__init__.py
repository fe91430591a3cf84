"""The `coopmail` command line."""

from coopmail.cli import (
    apikeys_commands,
    archive_commands,
    bounces_commands,
    campaigns_commands,
    config_commands,
    db_commands,
    demo,
    digest_commands,
    lists_commands,
    media_commands,
    news_commands,
    serve_commands,
    subscribers_commands,
    suppressions_commands,
    templates_commands,
    unit_commands,
    users_commands,
    versions_commands,
    worker_commands,
)
from coopmail.cli.root import ExitCode, cli

for _module in (
    apikeys_commands,
    archive_commands,
    bounces_commands,
    campaigns_commands,
    config_commands,
    db_commands,
    demo,
    digest_commands,
    lists_commands,
    media_commands,
    news_commands,
    serve_commands,
    subscribers_commands,
    suppressions_commands,
    templates_commands,
    unit_commands,
    users_commands,
    versions_commands,
    worker_commands,
):
    _module.register(cli)


def main() -> None:
    cli(prog_name="coopmail")


__all__ = ["ExitCode", "cli", "main"]
