"""Reading HTML forms safely, for the public pages and the staff admin alike."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request

from coopmail.web.logs import client_hung_up

BODY_MAX = 64 * 1024  # a form is a few hundred bytes; anything this big is not ours
TEXT_MAX = 1000


async def read_form(request: Request) -> FormData | None:
    """The submitted form, or None if it is too big, has files, or cannot be parsed."""
    length = request.headers.get("content-length", "")
    if length and (not length.isdigit() or int(length) > BODY_MAX):
        return None
    try:
        return await request.form(max_files=0, max_fields=100, max_part_size=BODY_MAX)
    except ClientDisconnect:
        client_hung_up(request.method, request.url.path)
        return None
    except (HTTPException, ValueError, UnicodeDecodeError):
        return None


CSV_UPLOAD_MAX = 1024**3  # an import: a CSV of a few million partners


async def read_upload(request: Request, *, max_bytes: int) -> FormData | None:
    """A form with one file of at most ``max_bytes`` (and a few short fields), or None.
    The file is spooled to a temporary file on disk as it arrives (Starlette keeps at most
    1 MB in memory), so a large import never sits in memory whole."""
    length = request.headers.get("content-length", "")
    if not length.isdigit() or int(length) > max_bytes + BODY_MAX:
        return None  # a browser always says how much it sends; refuse before reading it
    try:
        return await request.form(max_files=1, max_fields=20, max_part_size=BODY_MAX)
    except ClientDisconnect:
        client_hung_up(request.method, request.url.path)
        return None
    except (HTTPException, ValueError, UnicodeDecodeError):
        return None


def text(form: FormData, name: str) -> str:
    """A text field of the form, cut to a sane length; "" if absent or a file."""
    value = form.get(name)
    return value[:TEXT_MAX] if isinstance(value, str) else ""
