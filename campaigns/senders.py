"""The senders a campaign may go out as: From and Reply-To pairs the unit has configured.

A campaign picks one by its From address; its Reply-To comes with it unless the campaign
gives its own. Keeping the set in the settings means a typo in a front matter's ``from``
is refused rather than sent from an address nobody set DKIM up for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mailer.errors import InvalidHeader
from mailer.headers import parse_address


@dataclass(frozen=True, kw_only=True)
class Sender:
    from_address: str  # "Cooperatives Unit <coop@example.org>"
    reply_to: str | None = None

    @property
    def address(self) -> str:
        return parse_address(self.from_address)[1].lower()

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2]


def parse_senders(text: str) -> list[Sender]:
    """``FROM [| REPLY-TO]`` entries separated by ``;`` or new lines; ValueError names the
    entry that is not an address."""
    senders = []
    for entry in text.replace("\n", ";").split(";"):
        if not entry.strip():
            continue
        from_part, _, reply_part = entry.partition("|")
        try:
            parse_address(from_part.strip())
            if reply_part.strip():
                parse_address(reply_part.strip())
        except InvalidHeader as error:
            raise ValueError(f"{entry.strip()!r}: {error}") from None
        senders.append(Sender(from_address=from_part.strip(), reply_to=reply_part.strip() or None))
    return senders


def find_sender(senders: Sequence[Sender], *, from_address: str) -> Sender | None:
    """The configured sender with this From address (compared as an address, any case)."""
    wanted = parse_address(from_address)[1].lower()
    return next((sender for sender in senders if sender.address == wanted), None)
