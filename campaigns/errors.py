"""Errors of the campaign package; messages name the file and line where staff can fix them."""


class CampaignsError(Exception):
    """Base of every error this package raises on purpose."""


class ContentError(CampaignsError):
    """A content file or template cannot be used; the message says where and why."""

    def __init__(self, message: str, *, source: str, line: int | None = None) -> None:
        location = f"{source}, line {line}" if line else source
        super().__init__(f"{location}: {message}")
        self.source = source
        self.line = line


class CampaignNotFound(CampaignsError):
    def __init__(self, campaign_id: int) -> None:
        super().__init__(f"there is no campaign {campaign_id}; see `coopmail campaigns list`")


class UnknownTemplate(CampaignsError):
    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(f"there is no template {name!r}; choose one of: {', '.join(known)}")
