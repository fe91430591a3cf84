"""The password policy and argon2id hashing (no database needed)."""

from __future__ import annotations

import unicodedata
from importlib import resources

import pytest
from argon2 import PasswordHasher, Type
from argon2.profiles import RFC_9106_LOW_MEMORY

from coopmail.staff import passwords
from coopmail.staff.errors import PasswordProblem, WeakPassword
from coopmail.staff.passwords import HASHER as PRODUCTION_HASHER
from coopmail.staff.passwords import (
    MIN_LENGTH,
    check_password,
    hash_password,
    needs_rehash,
    verify_password,
)


@pytest.mark.parametrize(
    "password",
    [
        "violet harbour tractor",
        "Quinoa-fields-at-dawn",
        "maize and wool 1987",
        "x7#Lp2!vQz9@",
    ],
)
def test_long_uncommon_passwords_are_accepted(password: str) -> None:
    check_password(password, email="ana.quispe@coop.example.org", name="Ana Quispe")


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("a" * (MIN_LENGTH - 1), PasswordProblem.TOO_SHORT),
        ("short pass!", PasswordProblem.TOO_SHORT),
        ("w" * 1025, PasswordProblem.TOO_LONG),
        ("password1234", PasswordProblem.COMMON),
        ("Passw0rd2024!", PasswordProblem.COMMON),
        ("P4SSW0RD!!!!", PasswordProblem.COMMON),
        ("qwertyuiop12", PasswordProblem.COMMON),
        ("1qaz2wsx3edc", PasswordProblem.COMMON),
        ("aaaaaaaaaaaa", PasswordProblem.COMMON),
        ("abababababab", PasswordProblem.COMMON),
        ("123456789012", PasswordProblem.COMMON),
        ("!!!!????....", PasswordProblem.COMMON),
        ("passwordpassword", PasswordProblem.COMMON),
        ("abcdefghijkl", PasswordProblem.COMMON),
        ("lkjhgfdsapoiu", PasswordProblem.COMMON),
        ("Solidaridad2024", PasswordProblem.COMMON),
        ("2024motdepasse", PasswordProblem.COMMON),
        ("iloveyou!!!!", PasswordProblem.COMMON),
        ("ana.quispe-2024!x", PasswordProblem.LIKE_ACCOUNT),
        ("my name is Ana Quispe", PasswordProblem.LIKE_ACCOUNT),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(password: str, problem: str) -> None:
    with pytest.raises(WeakPassword) as caught:
        check_password(password, email="ana.quispe@coop.example.org", name="Ana Quispe")
    assert caught.value.problem == problem
    assert caught.value.minimum == MIN_LENGTH


def test_length_counts_characters_not_bytes() -> None:
    check_password("ñandú ñandú!", email="x@example.org")  # 12 characters, 16 bytes
    with pytest.raises(WeakPassword):
        check_password("ñandú ñandú", email="x@example.org")


def test_the_common_list_is_package_data_in_lower_case_without_repeats() -> None:
    text = (resources.files("coopmail.staff") / "common-passwords.txt").read_text("utf-8")
    entries = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert len(entries) >= 300
    assert len(set(entries)) == len(entries)
    assert all(entry == entry.strip().lower() for entry in entries)


def test_hashes_are_argon2id_with_rfc_9106_low_memory_parameters(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    profile = RFC_9106_LOW_MEMORY
    assert profile.type is Type.ID
    assert (profile.memory_cost, profile.time_cost, profile.parallelism) == (65536, 3, 4)
    monkeypatch.setattr(passwords, "HASHER", PRODUCTION_HASHER)  # undo the quick one
    stored = hash_password("violet harbour tractor")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert "violet" not in stored
    assert verify_password(stored, "violet harbour tractor")
    assert not needs_rehash(stored)


def test_verify_accepts_the_password_only() -> None:
    stored = hash_password("violet harbour tractor")
    assert verify_password(stored, "violet harbour tractor")
    assert not verify_password(stored, "violet harbour tractoR")
    assert not verify_password(None, "violet harbour tractor")  # no account: a decoy check
    assert not verify_password("not a hash", "violet harbour tractor")


def test_one_password_verifies_whichever_way_its_accents_were_typed() -> None:
    composed = unicodedata.normalize("NFC", "café con leche")
    decomposed = unicodedata.normalize("NFD", "café con leche")
    assert composed != decomposed
    assert verify_password(hash_password(composed), decomposed)


def test_a_hash_with_other_parameters_needs_a_rehash() -> None:
    older = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1, type=Type.ID)
    assert needs_rehash(older.hash("violet harbour tractor"))
    assert not needs_rehash(hash_password("violet harbour tractor"))
