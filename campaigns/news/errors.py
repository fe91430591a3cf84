"""Why a news item or an import source cannot be used."""

from __future__ import annotations

from campaigns.errors import CampaignsError


class NewsError(CampaignsError):
    """A news item or an import source cannot be used; the message says where and why."""


class NewsItemNotFound(NewsError):
    def __init__(self, item_id: int) -> None:
        super().__init__(f"there is no news item {item_id}")
        self.item_id = item_id


class DuplicateNewsLink(NewsError):
    def __init__(self, *, existing_id: int, link: str) -> None:
        super().__init__(f"news item {existing_id} already has the link {link}")
        self.existing_id = existing_id
        self.link = link


class InvalidNewsItem(NewsError):
    """A field of an item staff wrote cannot be used: which one, and what is wrong
    ("empty", "too_long", "control_character", "not_web_address", "not_language")."""

    def __init__(self, message: str, *, field: str, problem: str, limit: int = 0) -> None:
        super().__init__(message)
        self.field = field
        self.problem = problem
        self.limit = limit
