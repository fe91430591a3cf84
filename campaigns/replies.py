"""What a relay's answer to one message means for its delivery: the reply policy.

A pure function of the send result and the row's attempts, beside the bounce policy
(campaigns.bounces) whose classification of enhanced status codes it shares, so a 5.1.1
at RCPT time and a 5.1.1 in a later DSN suppress the address alike, and a policy block
(5.7.x) suppresses nobody either way.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from campaigns.models import DeliveryState
from mailer.bounces import BounceKind, classify
from mailer.smtp import Outcome as SmtpOutcome
from mailer.smtp import SendResult
from subscribers.models import SuppressionReason

# RCPT replies without an enhanced status that mean the address does not exist.
_HARD_BOUNCE_CODES = (550, 551, 553)
UNKNOWN_FATE = "no reply after the message was sent ({reply}); assumed delivered, not sent again"


class Tally(enum.Enum):
    """Which count of the worker's progress a judgement adds to."""

    SENT = "sent"
    FAILED = "failed"
    RETRYING = "retrying"


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """Temporary failures wait base, 2 x base, 4 x base... up to `longest`, and fail for
    good after `max_attempts`."""

    base: timedelta = timedelta(seconds=60)
    longest: timedelta = timedelta(hours=2)
    max_attempts: int = 8

    def delay(self, attempts: int) -> timedelta:
        delay: timedelta = self.base * 2 ** max(0, attempts - 1)
        return min(self.longest, delay)


@dataclass(frozen=True, kw_only=True, slots=True)
class Judgement:
    """The new state of the delivery and what to write down with it."""

    state: DeliveryState  # SENT, FAILED, or QUEUED for a retry
    tally: Tally
    code: int | None
    reply: str
    retry_at: datetime | None = None
    suppress_as: SuppressionReason | None = None
    pause: str | None = None  # why the whole campaign must stop, when it must


def judge_reply(
    result: SendResult, *, attempts: int, policy: RetryPolicy, now: datetime
) -> Judgement:
    """The delivery's fate after `result`, its `attempts`-th attempt (this one included)."""
    reply = f"{result.enhanced + ' ' if result.enhanced else ''}{result.reply}".strip()
    if result.outcome is SmtpOutcome.SENT:
        return Judgement(state=DeliveryState.SENT, tally=Tally.SENT, code=result.code, reply=reply)
    if result.outcome is SmtpOutcome.UNKNOWN:
        # The message was handed over; only the server's answer was lost. Never resent.
        return Judgement(
            state=DeliveryState.SENT,
            tally=Tally.SENT,
            code=None,
            reply=UNKNOWN_FATE.format(reply=reply or "connection lost"),
        )
    staged = f"{result.stage}: {reply}"
    if result.outcome is SmtpOutcome.REJECTED and result.stage in ("connect", "mail"):
        # The relay refused our sender or session (530 auth required, 553 sender refused):
        # no recipient is at fault, and every next one would fail the same way.
        return Judgement(
            state=DeliveryState.QUEUED,
            tally=Tally.RETRYING,
            code=result.code,
            reply=staged,
            retry_at=now,
            pause=(
                f"paused: the relay refused the sender ({result.code} {result.reply[:120]}); "
                "check the relay's address and credentials and the From or bounce address"
            ),
        )
    if result.outcome is SmtpOutcome.REJECTED:
        bounced = result.stage == "rcpt" and address_refused(result)
        return Judgement(
            state=DeliveryState.FAILED,
            tally=Tally.FAILED,
            code=result.code,
            reply=staged,
            suppress_as=SuppressionReason.BOUNCED if bounced else None,
        )
    if attempts >= policy.max_attempts:
        return Judgement(
            state=DeliveryState.FAILED,
            tally=Tally.FAILED,
            code=result.code,
            reply=f"gave up after {attempts} attempts; last: {reply}",
        )
    return Judgement(
        state=DeliveryState.QUEUED,
        tally=Tally.RETRYING,
        code=result.code,
        reply=staged,
        retry_at=now + policy.delay(attempts),
    )


def address_refused(result: SendResult) -> bool:
    """Whether a refused RCPT blames the address itself, so it is suppressed: the same
    policy as bounce processing, where a policy or spam block (5.7.x) is no verdict on it."""
    if result.enhanced:
        return classify(action="failed", status=result.enhanced) is BounceKind.HARD
    return result.code in _HARD_BOUNCE_CODES
