"""Tell the admins by mail that a digest issue waits as a draft for their approval.

Only an admin (or an owner) may send to lists, so they are the ones told; the mail is in
each one's language, through the staff mail path, and names the draft to review.
"""

from __future__ import annotations

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from campaigns.digest import DigestRun
from campaigns.drafts import get_campaign
from campaigns.news import month_label, parse_month
from coopmail.db import session_scope
from coopmail.staff.models import StaffAccount
from coopmail.staff.roles import Role
from coopmail.web.staff_mail import StaffMail, StaffMails

APPROVERS = tuple(role for role in Role if role.rank >= Role.ADMIN.rank)


def approvers(session: Session) -> list[StaffAccount]:
    """The accounts that may send a campaign to lists, and are not disabled."""
    return list(
        session.scalars(
            select(StaffAccount)
            .where(StaffAccount.role.in_(APPROVERS), StaffAccount.disabled_at.is_(None))
            .order_by(StaffAccount.id)
        )
    )


def approval_mails(session: Session, *, mails: StaffMails, run: DigestRun) -> list[StaffMail]:
    """One mail per approver for an issue left as a draft; none for any other outcome."""
    if run.outcome != "draft" or run.campaign_id is None:
        return []
    campaign = get_campaign(session, campaign_id=run.campaign_id)
    list_name = campaign.lists[0].name if campaign.lists else ""
    year, month = parse_month(run.month)
    return [
        mails.digest_approval(
            email=account.email,
            name=account.name,
            language=account.language,
            month=month_label(year, month, language=account.language),
            list_name=list_name,
            items=run.items,
            campaign_id=run.campaign_id,
        )
        for account in approvers(session)
    ]


def notify_approvers(engine: Engine, *, mails: StaffMails, run: DigestRun) -> int:
    """Send the approval mails of ``run`` (logging, not raising, on a relay's refusal);
    returns how many were sent for."""
    with session_scope(engine) as session:
        batch = approval_mails(session, mails=mails, run=run)
    for mail in batch:
        mails.send(mail)
    return len(batch)
