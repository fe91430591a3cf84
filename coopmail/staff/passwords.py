"""The password policy and argon2id hashing.

Length is what makes a password strong, so the policy asks for twelve characters and
refuses what an attacker tries first: common passwords and their stems with digits and
symbols around them or letters swapped for look-alike digits, keyboard runs, repeats,
and the account's own address or name. No rules about character classes.

Hashes use argon2id with RFC 9106's low-memory parameters (64 MiB, 3 passes, 4 lanes).
When these change, a stored hash is replaced at the next successful login.
"""

from __future__ import annotations

import functools
import string
import unicodedata
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import RFC_9106_LOW_MEMORY

from coopmail.staff.errors import PasswordProblem, WeakPassword

MIN_LENGTH = 12
MAX_LENGTH = 1024  # longer is a passphrase no one types: refuse before hashing it
HASHER = PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY)

_EDGES = string.digits + string.punctuation + string.whitespace
_LOOK_ALIKES = str.maketrans("0134578@$!|", "oieastbasil")
_RUNS = (
    "abcdefghijklmnopqrstuvwxyz",
    "qwertyuiopasdfghjklzxcvbnm",
    "azertyuiopqsdfghjklmwxcvbn",
    "qwertzuiopasdfghjklyxcvbnm",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
    "qazwsxedcrfvtgbyhnujmikolp",
    "01234567890",
)
_RUN_MIN = 4


def normalise(password: str) -> str:
    """The form that is hashed: one Unicode spelling for what looks the same (an é typed
    on two keyboards), so the same password always verifies."""
    return unicodedata.normalize("NFKC", password)


def check_password(password: str, *, email: str = "", name: str = "") -> None:
    """WeakPassword unless ``password`` meets the policy for the account ``email``."""
    password = normalise(password)
    if len(password) < MIN_LENGTH:
        raise _weak(PasswordProblem.TOO_SHORT)
    if len(password) > MAX_LENGTH:
        raise _weak(PasswordProblem.TOO_LONG)
    if _guessable(password):
        raise _weak(PasswordProblem.COMMON)
    if _like_account(password.casefold(), email=email, name=name):
        raise _weak(PasswordProblem.LIKE_ACCOUNT)


def hash_password(password: str) -> str:
    return HASHER.hash(normalise(password))


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; with no hash (an unknown account, or one that has
    not chosen a password yet) it still spends the time of a check, so the answer's
    timing tells nothing."""
    try:
        return HASHER.verify(password_hash or _decoy_hash(), normalise(password[:MAX_LENGTH]))
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return HASHER.check_needs_rehash(password_hash)


@functools.cache
def _decoy_hash() -> str:
    return HASHER.hash("coopmail: a password no account has")


@functools.cache
def _common() -> frozenset[str]:
    text = (resources.files("coopmail.staff") / "common-passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def _guessable(password: str) -> bool:
    lowered = password.casefold()
    core = lowered.strip(_EDGES)
    spelled = core.translate(_LOOK_ALIKES)
    candidates = {lowered, core, spelled, spelled.strip(_EDGES)}
    if candidates & _common():
        return True
    return any(_simple(candidate) for candidate in (core, spelled))


def _simple(core: str) -> bool:
    """Nothing but digits and symbols, two characters or fewer over and over, a keyboard
    or alphabet run, or a common word repeated."""
    if len(set(core)) <= 2:
        return True
    if len(core) >= _RUN_MIN and any(core in run or core in run[::-1] for run in _RUNS):
        return True
    for size in range(1, len(core) // 2 + 1):
        if len(core) % size == 0 and core == core[:size] * (len(core) // size):
            unit = core[:size]
            return unit in _common() or len(set(unit)) <= 3
    return False


def _like_account(lowered: str, *, email: str, name: str) -> bool:
    email = email.casefold()
    local = email.partition("@")[0]
    parts = [email, local, name.casefold().replace(" ", "")]
    return any(len(part) >= _RUN_MIN and part in lowered.replace(" ", "") for part in parts)


def _weak(problem: PasswordProblem) -> WeakPassword:
    return WeakPassword(problem, minimum=MIN_LENGTH, maximum=MAX_LENGTH)
