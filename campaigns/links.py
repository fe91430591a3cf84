"""The signed links a recipient's message carries; the web pages verify the same tokens."""

from __future__ import annotations

import time
from dataclasses import dataclass

from subscribers.tokens import make_token

UNSUBSCRIBE = "unsubscribe"
PREFERENCES = "preferences"
VIEW = "view"


@dataclass(frozen=True, kw_only=True)
class Links:
    """Link builder for one campaign (``campaign_id`` 0 for previews of unsaved content)."""

    base_url: str
    key: bytes
    campaign_id: int

    def unsubscribe_token(self, *, subscriber_id: int, list_id: int) -> str:
        return make_token(
            key=self.key, purpose=UNSUBSCRIBE, values=(subscriber_id, list_id, self.campaign_id)
        )

    def unsubscribe(self, *, token: str) -> str:
        return f"{self.base_url}/u/{token}"

    def preferences(self, *, subscriber_id: int, issued_at: float | None = None) -> str:
        """The preferences page opens a person's data (and erases it), so its link expires;
        each mail carries one issued when it was built, which renews the lifetime."""
        token = make_token(
            key=self.key,
            purpose=PREFERENCES,
            values=(subscriber_id,),
            issued_at=int(time.time() if issued_at is None else issued_at),
        )
        return f"{self.base_url}/p/{token}"

    def view(self, *, subscriber_id: int) -> str:
        token = make_token(key=self.key, purpose=VIEW, values=(self.campaign_id, subscriber_id))
        return f"{self.base_url}/v/{token}"
