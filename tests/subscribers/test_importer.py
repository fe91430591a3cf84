"""CSV import: bad rows rejected with reasons, good rows land, re-runs change nothing."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from subscribers.importer import import_csv
from subscribers.lists import create_list
from subscribers.models import (
    ConsentRecord,
    Subscriber,
    Subscription,
    SubscriptionStatus,
    SuppressionReason,
)
from subscribers.people import unsubscribe
from subscribers.suppressions import suppress
from tests.conftest import Cli

HEADER = b"email,name,language,organisation,country\n"


def write(path: Path, body: bytes, header: bytes = HEADER) -> Path:
    path.write_bytes(header + body)
    return path


def count(session: Session, model: type) -> int:
    session.rollback()  # a fresh snapshot: other processes may have written
    return session.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture
def partners(run: Cli) -> Cli:
    run.ok("lists", "create", "partners", "--title", "Partners")
    return run


def test_good_rows_land_with_attributes(partners: Cli, session: Session, tmp_path: Path) -> None:
    source = write(
        tmp_path / "in.csv",
        "Amara@Coop-Sahel.example.org,Amara Diallo,fr,Union des coopératives,Senegal\n"
        "lucia@andes.example.org,Lucía Quispe,es,,Peru\n".encode(),
    )
    summary = partners.ok(
        "subscribers", "import", str(source), "--list", "partners", "--json"
    ).json()
    assert summary["imported"] == 2
    assert summary["rejected"] == 0
    assert summary["rejects_file"] is None
    amara = session.scalar(
        select(Subscriber).where(Subscriber.email == "amara@coop-sahel.example.org")
    )
    assert amara is not None
    assert (amara.name, amara.language) == ("Amara Diallo", "fr")
    assert amara.attributes == {"organisation": "Union des coopératives", "country": "Senegal"}
    lucia = session.scalar(select(Subscriber).where(Subscriber.email == "lucia@andes.example.org"))
    assert lucia is not None and lucia.attributes == {"country": "Peru"}
    assert count(session, ConsentRecord) == 2
    statuses = set(session.scalars(select(Subscription.status)))
    assert statuses == {SubscriptionStatus.CONFIRMED}


def test_rerun_changes_nothing_and_updates_what_changed(
    partners: Cli, session: Session, tmp_path: Path
) -> None:
    rows = b"".join(b"p%d@coop.example.org,Partner %d,en,Org,KE\n" % (i, i) for i in range(25))
    source = write(tmp_path / "in.csv", rows)
    first = partners.ok("subscribers", "import", str(source), "--list", "partners", "--json").json()
    again = partners.ok("subscribers", "import", str(source), "--list", "partners", "--json").json()
    assert (first["imported"], again["imported"], again["unchanged"], again["updated"]) == (
        25,
        0,
        25,
        0,
    )
    assert count(session, ConsentRecord) == 25  # no second consent record for the same thing

    changed = write(tmp_path / "changed.csv", b"p3@coop.example.org,Partner Three,fr,Org,KE\n")
    third = partners.ok(
        "subscribers", "import", str(changed), "--list", "partners", "--json"
    ).json()
    assert third["updated"] == 1
    person = session.scalar(select(Subscriber).where(Subscriber.email == "p3@coop.example.org"))
    assert person is not None and (person.name, person.language) == ("Partner Three", "fr")


BAD_ROWS = [
    (b"not-an-address,Someone,en,Org,X\n", "email:"),
    (b'crlf@example.org,"Line\r\nbreak",en,Org,X\n', "line break"),
    (b"nul@example.org,Nul\x00Name,en,Org,X\n", "line break, NUL"),
    (b"bytes@example.org,Caf\xe9,fr,Org,X\n", "not valid UTF-8"),
    (b"big@example.org," + b"x" * 5000 + b",en,Org,X\n", "longer than"),
    (b"short@example.org,Too few\n", "expected 5 fields"),
    (b"lang@example.org,Someone,klingon!,Org,X\n", "language"),
    (b"local@localhost,Someone,en,Org,X\n", "email:"),
    (b'huge@example.org,"' + b"y" * 70_000 + b'",en,Org,X\n', "cannot be read as CSV"),
]


def test_each_bad_row_is_rejected_with_its_line_and_reason(
    partners: Cli, session: Session, tmp_path: Path
) -> None:
    body = b"good1@example.org,Good One,en,Org,X\n"
    for bad, _ in BAD_ROWS:
        body += bad
    body += b"good2@example.org,Good Two,en,Org,X\n"
    source = write(tmp_path / "mixed.csv", body)
    summary = partners.ok(
        "subscribers", "import", str(source), "--list", "partners", "--json"
    ).json()
    assert summary["imported"] == 2
    assert summary["rejected"] == len(BAD_ROWS)
    assert set(session.scalars(select(Subscriber.email))) == {
        "good1@example.org",
        "good2@example.org",
    }

    rejects_path = Path(summary["rejects_file"])
    assert rejects_path == tmp_path / "mixed.rejects.csv"
    with rejects_path.open(encoding="utf-8", errors="surrogateescape", newline="") as handle:
        rejects = list(csv.reader(handle))
    assert rejects[0][:3] == ["line", "reason", "email"]
    reasons = [row[1] for row in rejects[1:]]
    for (_, expected), reason in zip(BAD_ROWS, reasons, strict=True):
        assert expected in reason
    # line numbers are physical lines: the CRLF row spans lines 4-5, so the NUL row is line 6
    assert [int(row[0]) for row in rejects[1:5]] == [3, 4, 6, 7]
    # undecodable bytes survive into the rejects file so the row can be fixed and re-imported
    assert "bytes@example.org" in rejects[4][2]
    assert rejects_path.read_bytes().count(b"Caf\xe9") == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"name,language\nAmara,fr\n", "no 'email' column"),
        (b"email,name,Email\nx@example.org,a,b\n", "appears more than once"),
        (b"email,,name\nx@example.org,a,b\n", "has no name"),
        (b"email,na\xffme\nx@example.org,a\n", "not UTF-8"),
    ],
)
def test_a_file_that_cannot_be_imported_is_one_clear_error_and_writes_nothing(
    partners: Cli, session: Session, tmp_path: Path, content: bytes, message: str
) -> None:
    source = tmp_path / "bad.csv"
    source.write_bytes(content)
    result = partners("subscribers", "import", str(source), "--list", "partners")
    assert result.exit_code == 1
    assert message in result.stderr
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1
    assert count(session, Subscriber) == 0
    assert not (tmp_path / "bad.rejects.csv").exists()


def test_unknown_list_and_missing_file(partners: Cli, tmp_path: Path) -> None:
    source = write(tmp_path / "in.csv", b"a@example.org,A,en,O,C\n")
    result = partners("subscribers", "import", str(source), "--list", "nope")
    assert result.exit_code == 1
    assert "no list named 'nope'" in result.stderr
    assert "coopmail lists create nope" in result.stderr
    missing = partners("subscribers", "import", str(tmp_path / "missing.csv"), "--list", "partners")
    assert missing.exit_code == 1
    assert "cannot open" in missing.stderr


def test_suppressed_and_unsubscribed_people_are_never_resubscribed(
    partners: Cli, session: Session, tmp_path: Path
) -> None:
    source = write(
        tmp_path / "in.csv",
        b"gone@example.org,Gone,en,O,C\nleft@example.org,Left,en,O,C\nstay@example.org,Stay,en,O,C\n",
    )
    partners.ok("subscribers", "import", str(source), "--list", "partners")
    suppress(session, email="Gone@Example.org", reason=SuppressionReason.BOUNCED)
    left = session.scalar(select(Subscriber).where(Subscriber.email == "left@example.org"))
    assert left is not None
    from subscribers.models import ConsentSource

    unsubscribe(
        session, subscriber=left, lists=None, source=ConsentSource.FORM, wording="Unsubscribe"
    )
    session.commit()

    again = partners.ok("subscribers", "import", str(source), "--list", "partners", "--json").json()
    assert (again["suppressed"], again["unchanged"], again["imported"]) == (2, 1, 0)
    rejects = Path(again["rejects_file"]).read_text()
    assert "suppressed (bounced)" in rejects
    assert "unsubscribed from partners" in rejects
    joined = select(Subscriber.email, Subscription.status).join(Subscription)
    statuses = dict(session.execute(joined).all())
    assert statuses["left@example.org"] is SubscriptionStatus.UNSUBSCRIBED
    # an erased person is not even re-created
    partners.ok("subscribers", "erase", "stay@example.org", "--yes")
    third = partners.ok("subscribers", "import", str(source), "--list", "partners", "--json").json()
    assert third["suppressed"] == 3
    assert session.scalar(select(Subscriber).where(Subscriber.email == "stay@example.org")) is None


def test_duplicates_in_a_file_are_counted_and_the_last_one_wins(
    partners: Cli, session: Session, tmp_path: Path
) -> None:
    source = write(
        tmp_path / "in.csv",
        b"dup@example.org,First,en,O,C\nDUP@example.org,Second,fr,O,C\nother@example.org,O,en,O,C\n",
    )
    summary = partners.ok(
        "subscribers", "import", str(source), "--list", "partners", "--json"
    ).json()
    assert (summary["imported"], summary["duplicates"], summary["rows"]) == (2, 1, 3)
    person = session.scalar(select(Subscriber).where(Subscriber.email == "dup@example.org"))
    assert person is not None and (person.name, person.language) == ("Second", "fr")


def test_unconfirmed_import_then_confirmed_import_confirms(
    partners: Cli, session: Session, tmp_path: Path
) -> None:
    source = write(tmp_path / "in.csv", b"wait@example.org,W,en,O,C\n")
    partners.ok("subscribers", "import", str(source), "--list", "partners", "--unconfirmed")
    assert session.scalar(select(Subscription.status)) is SubscriptionStatus.UNCONFIRMED
    summary = partners.ok(
        "subscribers", "import", str(source), "--list", "partners", "--json"
    ).json()
    assert summary["updated"] == 1
    assert session.scalar(select(Subscription.status)) is SubscriptionStatus.CONFIRMED
    actions = [
        r.action.value for r in session.scalars(select(ConsentRecord).order_by(ConsentRecord.id))
    ]
    assert actions == ["subscribe", "confirm"]


def test_standard_input_bom_and_custom_consent(partners: Cli, session: Session) -> None:
    data = "\ufeffEMAIL,Name\r\nbom@example.org,Bom\r\n".encode()
    summary = partners.ok(
        "subscribers",
        "import",
        "-",
        "--list",
        "partners",
        "--consent",
        "Met at the assembly",
        "--json",
        input=data,
    ).json()
    assert summary["imported"] == 1
    record = session.scalar(select(ConsentRecord))
    assert record is not None and record.wording == "Met at the assembly"
    assert record.source.value == "import"


def test_an_interrupted_import_keeps_whole_batches_and_finishes_on_rerun(
    session: Session, tmp_path: Path
) -> None:
    mailing_list = create_list(session, name="partners")
    session.commit()
    rows = b"".join(b"p%d@example.org,P%d,en,O,C\n" % (i, i) for i in range(50))
    source = write(tmp_path / "in.csv", rows)

    def interrupt_after_first_batch(read: int) -> None:
        raise KeyboardInterrupt

    with source.open("rb") as handle:
        summary = import_csv(
            session,
            source=handle,
            mailing_list=mailing_list,
            rejects_path=tmp_path / "r.csv",
            wording="w",
            batch_size=20,
            on_batch=interrupt_after_first_batch,
        )
    assert summary.interrupted
    assert summary.imported == 20
    assert count(session, Subscriber) == count(session, Subscription) == 20
    with source.open("rb") as handle:
        summary = import_csv(
            session,
            source=handle,
            mailing_list=mailing_list,
            rejects_path=tmp_path / "r.csv",
            wording="w",
            batch_size=20,
        )
    assert (summary.imported, summary.unchanged) == (30, 20)
    assert (
        count(session, Subscriber)
        == count(session, Subscription)
        == count(session, ConsentRecord)
        == 50
    )


def test_a_killed_import_process_leaves_no_half_batch(
    partners: Cli, database_url: str, session: Session, tmp_path: Path
) -> None:
    rows = b"".join(b"k%d@example.org,K%d,en,Org,C\n" % (i, i) for i in range(200_000))
    source = write(tmp_path / "big.csv", rows)
    env = {**os.environ, "COOPMAIL_DATABASE_URL": database_url, "COOPMAIL_CONFIG": ""}
    command = [
        sys.executable,
        "-m",
        "coopmail",
        "subscribers",
        "import",
        str(source),
        "--list",
        "partners",
        "--json",
    ]
    child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while count(session, Subscriber) < 10_000 and time.monotonic() < deadline:
        session.rollback()
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait()
    session.rollback()
    landed = count(session, Subscriber)
    assert 0 < landed < 200_000
    assert landed % 2000 == 0  # whole batches only
    assert count(session, Subscription) == count(session, ConsentRecord) == landed

    finished = subprocess.run(command, env=env, capture_output=True, check=True)
    summary = json.loads(finished.stdout)
    assert summary["imported"] + summary["unchanged"] == 200_000
    assert summary["unchanged"] == landed
    assert count(session, Subscriber) == count(session, Subscription) == 200_000


def test_export_round_trips_through_import(partners: Cli, session: Session, tmp_path: Path) -> None:
    source = write(
        tmp_path / "in.csv",
        'a@example.org,Ana,es,Coop "Andina",Peru\nb@example.org,"Bé, Jr",fr,,\n'.encode(),
    )
    partners.ok("subscribers", "import", str(source), "--list", "partners")
    exported = tmp_path / "out.csv"
    partners.ok("subscribers", "export", "--list", "partners", "--output", str(exported))
    rows = list(csv.DictReader(io.StringIO(exported.read_text(encoding="utf-8"))))
    assert [r["email"] for r in rows] == ["a@example.org", "b@example.org"]
    assert rows[0]["organisation"] == 'Coop "Andina"' and rows[1]["name"] == "Bé, Jr"
    assert {r["status"] for r in rows} == {"confirmed"}
    again = partners.ok(
        "subscribers", "import", str(exported), "--list", "partners", "--json"
    ).json()
    assert (again["unchanged"], again["updated"], again["rejected"]) == (2, 0, 0)


def test_a_file_larger_than_a_batch_lands_whole_in_several_commits(
    partners: Cli, session: Session, tmp_path: Path
) -> None:
    from subscribers.importer import BATCH_SIZE

    rows = 2 * BATCH_SIZE + 500
    body = b"".join(b"m%d@example.org,M%d,es,Org,Chile\n" % (i, i) for i in range(rows))
    source = write(tmp_path / "many.csv", body + b"not-an-address,X,es,Org,Chile\n")
    summary = partners.ok(
        "subscribers", "import", str(source), "--list", "partners", "--json"
    ).json()
    assert (summary["imported"], summary["rejected"], summary["rows"]) == (rows, 1, rows + 1)
    assert count(session, Subscriber) == count(session, Subscription) == rows
    assert count(session, ConsentRecord) == rows
