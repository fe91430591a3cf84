"""The root command, and the one place errors become one line and an exit code."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click
from sqlalchemy.exc import SQLAlchemyError

from campaigns.errors import CampaignsError, FrontMatterError
from coopmail import __version__
from coopmail.cli import hints
from coopmail.cli.app import App
from coopmail.content_hints import describe_front_matter
from coopmail.errors import ConfigError, CoopmailError, DatabaseError
from mailer.errors import MailerError
from subscribers.errors import SubscribersError


class ExitCode:
    """Documented in docs/cli.md (Exit status): scripts branch on these."""

    OK = 0
    FAILED = 1  # bad input, not found, refused
    USAGE = 2  # click's own code for a wrong command line
    ENVIRONMENT = 3  # configuration, database unreachable or schema behind
    INTERNAL = 70  # a bug: please report it
    INTERRUPTED = 130


class CoopmailGroup(click.Group):
    """Turns every error into one line on stderr and a meaningful exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort, BrokenPipeError):
            raise  # click reports these itself (a closed pipe quietly)
        except (ConfigError, DatabaseError) as error:
            _fail(str(error), ExitCode.ENVIRONMENT)
        except FrontMatterError as error:
            _fail(describe_front_matter(error), ExitCode.FAILED)
        except (CoopmailError, SubscribersError, CampaignsError, MailerError) as error:
            hint = hints.for_error(error)
            _fail(f"{error}; {hint}" if hint else str(error), ExitCode.FAILED)
        except KeyboardInterrupt:
            _fail("interrupted; nothing half-written was kept", ExitCode.INTERRUPTED)
        except SQLAlchemyError as error:
            first_line = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
            _fail(f"database error: {first_line}", ExitCode.ENVIRONMENT)
        except Exception as error:  # a bug; the user still gets one line, not a traceback
            if os.environ.get("COOPMAIL_DEBUG"):
                raise
            _fail(
                f"internal error ({type(error).__name__}: {error}); run again with "
                "COOPMAIL_DEBUG=1 to see the traceback and please report it",
                ExitCode.INTERNAL,
            )


def _fail(message: str, code: int) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


@click.group(cls=CoopmailGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="coopmail")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="COOPMAIL_CONFIG",
    help="A coopmail.toml whose settings override the COOPMAIL_* environment variables.",
)
@click.pass_context
def cli(ctx: click.Context, config_file: Path | None) -> None:
    """coopmail: newsletters and mailings for a cooperatives unit.

    Start with `coopmail demo`, or `coopmail db upgrade` on a new database.
    """
    app = App(config_file=config_file)
    ctx.obj = app
    ctx.call_on_close(app.close)
