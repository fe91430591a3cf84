"""`coopmail bounces` on real mbox and Maildir files and standard input (both DBs)."""

from __future__ import annotations

import shutil
import socket
import socketserver
import ssl
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import trustme
from click.testing import CliRunner
from sqlalchemy.orm import Session

from coopmail.bouncesources import BounceSourceError, ImapSettings, MboxSource
from coopmail.cli import cli
from mailer.bounces import MAX_MESSAGE_BYTES
from subscribers.suppressions import find_suppression
from tests.campaigns.test_bounces import SAMPLES, email_of, world
from tests.conftest import Cli

KEY = "bounce-fixture-key-2026"


@pytest.fixture
def bounces(run: Cli, session: Session) -> Cli:
    world(session)
    run.env["COOPMAIL_SECRET_KEY"] = KEY
    return run


def test_an_mbox_is_read_and_left_as_it_was(bounces: Cli, session: Session, tmp_path: Path) -> None:
    mbox = tmp_path / "bounces.mbox"
    shutil.copyfile(SAMPLES / "postfix.mbox", mbox)
    before = mbox.read_bytes()
    first = bounces.ok("bounces", "process", "--mbox", str(mbox), "--json").json()
    assert first == {
        "messages": 6,
        "hard": 2,
        "soft": 2,
        "complaints": 0,
        "unsubscribes": 1,
        "unrecognised": 0,
        "ignored": 1,
        "unverified": 0,
        "suppressed": 2,
        "duplicates": 0,
        "truncated": 0,
    }
    again = bounces.ok("bounces", "process", "--mbox", str(mbox), "--json").json()
    assert (again["messages"], again["duplicates"], again["ignored"], again["suppressed"]) == (
        6,
        5,
        1,
        0,
    )
    assert mbox.read_bytes() == before
    assert find_suppression(session, email=email_of(1)) is not None

    people = bounces.ok("bounces", "process", "--mbox", str(mbox))
    assert "6 messages: 0 hard, 0 soft" in people.stderr
    assert "1 unsubscribe requests carried no valid token" in people.stderr


def test_an_oversized_mbox_entry_is_cut_and_the_next_read_whole(tmp_path: Path) -> None:
    mbox = tmp_path / "bounces.mbox"
    huge = b"Subject: big\n\n" + (b"x" * 999 + b"\n") * (MAX_MESSAGE_BYTES // 1000 + 10)
    mbox.write_bytes(
        b"From MAILER-DAEMON Sun Nov 29 12:00:00 2026\n"
        + huge
        + b"\n"
        + (SAMPLES / "postfix.mbox").read_bytes()
    )
    source = MboxSource(path=mbox)
    try:
        read = [(len(incoming.data), incoming.truncated) for incoming in source.messages()]
    finally:
        source.close()
    assert read[0] == (MAX_MESSAGE_BYTES, True)
    assert len(read) == 7 and not any(truncated for _, truncated in read[1:])


def test_a_maildir_is_read_and_moved_to_processed(bounces: Cli, tmp_path: Path) -> None:
    maildir = tmp_path / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True)
    names = sorted(path.name for path in SAMPLES.glob("*.eml"))
    for number, name in enumerate(names):
        folder, suffix = ("cur", ":2,F") if number == 0 else ("new", "")
        shutil.copyfile(
            SAMPLES / name, maildir / folder / f"17950000{number:02d}.M1P1.host{suffix}"
        )
    result = bounces.ok("bounces", "process", "--maildir", str(maildir), "--json").json()
    assert result["messages"] == len(names) == 12
    assert (result["hard"], result["complaints"], result["unrecognised"]) == (6, 1, 1)
    assert not list((maildir / "new").iterdir()) and not list((maildir / "cur").iterdir())
    processed = sorted(p.name for p in (maildir / ".Processed" / "cur").iterdir())
    assert len(processed) == 12
    assert processed[0] == "1795000000.M1P1.host:2,FS"  # its flag kept, Seen added
    assert all(name.endswith("S") for name in processed)
    assert (maildir / ".Processed" / "maildirfolder").exists()
    assert (
        bounces.ok("bounces", "process", "--maildir", str(maildir), "--json").json()["messages"]
        == 0
    )


def test_standard_input_takes_the_envelope_recipient_from_the_mta(
    bounces: Cli, session: Session
) -> None:
    # Neither the headers nor the returned original identify the delivery any more; only
    # the VERP recipient Postfix's local(8) passes to the pipe in $RECIPIENT does.
    data = (
        (SAMPLES / "postfix-unknown-user.eml")
        .read_bytes()
        .replace(b"bounces+d1.1720b3a460@coop.test", b"bounces@coop.test")
        .replace(b"4f1c2a9be0d34a6f", b"0000000000000000")
        .replace(b"GPolNKJw_vz2bhJGJK-tMV", b"AAAAAAAAAAAAAAAAAAAAAA")
    )
    unproven = bounces.ok("bounces", "process", "-", "--json", input=data).json()
    assert (unproven["hard"], unproven["unverified"], unproven["suppressed"]) == (1, 1, 0)
    bounces.env["RECIPIENT"] = "bounces+d1.1720b3a460@coop.test"
    data = data.replace(b"Letter of solidarity", b"Letter of solidarity (again)")
    proven = bounces.ok("bounces", "process", "-", "--json", input=data).json()
    assert (proven["hard"], proven["unverified"], proven["suppressed"]) == (1, 0, 1)
    assert find_suppression(session, email=email_of(1)) is not None


def test_standard_input_asks_the_mta_to_retry_when_the_database_is_away(
    tmp_path: Path,
) -> None:
    runner = CliRunner()
    env = {
        "COOPMAIL_DATABASE_URL": f"sqlite:///{tmp_path}/missing/folder/coopmail.db",
        "COOPMAIL_SECRET_KEY": KEY,
        "COOPMAIL_CONFIG": "",
    }
    data = (SAMPLES / "postfix-unknown-user.eml").read_bytes()
    result = runner.invoke(cli, ["bounces", "process", "-"], env=env, input=data)
    assert result.exit_code == 75
    assert "the MTA will try again later" in result.stderr
    env = {"COOPMAIL_DATABASE_URL": f"sqlite:///{tmp_path}/x.db", "COOPMAIL_CONFIG": ""}
    result = runner.invoke(cli, ["bounces", "process", "-"], env=env, input=data)
    assert result.exit_code == 75
    assert "COOPMAIL_SECRET_KEY is not set" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("bounces", "process"),
        ("bounces", "process", "--mbox", "a", "--maildir", "b"),
        ("bounces", "process", "--mbox", "a", "-"),
        ("bounces", "process", "file.mbox"),
    ],
)
def test_exactly_one_source(args: tuple[str, ...], tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, list(args), env={"COOPMAIL_CONFIG": ""})
    assert result.exit_code == 2


def test_a_missing_mailbox_is_one_clear_line(bounces: Cli, tmp_path: Path) -> None:
    result = bounces("bounces", "process", "--maildir", str(tmp_path))
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"Error: {tmp_path} is not a Maildir (it needs new/ and cur/ folders)"
    )
    result = bounces("bounces", "process", "--mbox", str(tmp_path / "nope.mbox"))
    assert result.exit_code == 1 and "is not a file" in result.stderr


def test_an_unreachable_imap_server_never_shows_the_password(bounces: Cli) -> None:
    result = bounces("bounces", "process", "--imap", "imaps://bounces:s3cret-pw@127.0.0.1:9/INBOX")
    assert result.exit_code == 1
    assert "cannot read imaps://bounces@127.0.0.1:9/INBOX" in result.stderr
    assert "s3cret-pw" not in result.stderr + result.stdout


def test_imap_urls() -> None:
    parsed = ImapSettings.from_url(
        "imaps://bounce%40example.org:p%40ss@mail.example.org/Bounces?move=Done"
    )
    assert (parsed.user, parsed.password, parsed.port, parsed.folder, parsed.move_to) == (
        "bounce@example.org",
        "p@ss",
        993,
        "Bounces",
        "Done",
    )
    assert "p@ss" not in repr(parsed)
    plain = ImapSettings.from_url("imap://u:p@mail.example.org")
    assert (plain.implicit_tls, plain.port, plain.folder) == (False, 143, "INBOX")
    for bad in (
        "http://u:p@host/INBOX",
        "imaps://host/INBOX",
        "imaps://u:p@host/INBOX?delete=yes",
        'imaps://u:p@host/IN"BOX',
        "imaps://u:p@host:port/INBOX",
        "imaps://u:p%C3%A9@host/INBOX",  # imaplib would fail on it, quoting a character
        "imaps://u:p@host/Bo%C3%AEte",
    ):
        with pytest.raises(BounceSourceError) as caught:
            ImapSettings.from_url(bad)
        assert ":p@" not in str(caught.value)


def test_events_are_listed_shown_with_the_person_and_the_campaign_and_erased(
    bounces: Cli, tmp_path: Path
) -> None:
    hostile = (
        (SAMPLES / "postfix-mailbox-full.eml")
        .read_bytes()
        .replace(
            b"Mailbox quota exceeded for this recipient", b"[bold red]quota[/bold red] \x1b[2J"
        )
    )
    bounces.ok("bounces", "process", "-", input=hostile)
    bounces.ok("bounces", "process", "-", input=(SAMPLES / "arf-complaint.eml").read_bytes())

    listed = bounces.ok("bounces", "list", "--json").json()
    assert [(e["kind"], e["email"]) for e in listed] == [
        ("complaint", email_of(10)),
        ("soft", email_of(3)),
    ]
    assert listed[1]["diagnostic"] == "X-Postfix; [bold red]quota[/bold red] [2J"
    table = bounces.ok("bounces", "list", "--email", email_of(3)).stdout
    assert "[bold" in table and "red]quota" in table  # shown as text, never as markup
    assert bounces.ok("bounces", "list", "--campaign", "2", "--json").json() == []

    status = bounces.ok("campaigns", "status", "1", "--json").json()
    assert (status["bounces"]["soft"], status["bounces"]["complaint"]) == (1, 1)
    assert status["bounces"]["latest"]["kind"] == "complaint"
    assert "bounces: 0 hard, 1 soft, 1 complaints" in bounces.ok("campaigns", "status", "1").stderr

    shown = bounces.ok("subscribers", "show", email_of(3), "--json").json()
    assert [(e["kind"], e["status"]) for e in shown["bounce_events"]] == [("soft", "5.2.2")]
    shown_table = bounces.ok("subscribers", "show", email_of(3)).stdout
    assert "[bold" in shown_table and "red]quota" in shown_table

    bounces.ok("subscribers", "erase", email_of(3), "--yes")
    assert bounces.ok("bounces", "list", "--email", email_of(3), "--json").json() == []


class _ImapHandler(socketserver.StreamRequestHandler):
    """Just enough IMAP4rev1 (RFC 3501; MOVE, RFC 6851, when offered) for our source."""

    server: _ImapServer
    logged_in = False

    def handle(self) -> None:
        mailbox = self.server.mailbox
        self._send(f"* OK [CAPABILITY {self.server.capabilities(False)}] test server ready")
        while line := self.rfile.readline().decode().rstrip("\r\n"):
            tag, command, *rest = line.split(" ", 2)
            args = rest[0] if rest else ""
            command = command.upper()
            if command == "UID":
                command, _, args = args.partition(" ")
                command = "UID " + command.upper()
            mailbox.commands.append(command)
            if command == "CAPABILITY":
                self._send(f"* CAPABILITY {self.server.capabilities(self.logged_in)}")
            elif command == "STARTTLS":
                self._send(f"{tag} OK begin TLS now")
                self.request = self.server.context.wrap_socket(self.request, server_side=True)
                self.rfile = self.request.makefile("rb")
                self.wfile = self.request.makefile("wb", buffering=0)
                self.server.secured = True
                continue
            elif command == "LOGIN":
                if not self.server.secured or args != 'bounces "s3cret pw"':
                    # Some servers quote the command they refuse, password and all.
                    self._send(f"{tag} NO [AUTHENTICATIONFAILED] refused: LOGIN {args}")
                    continue
                self.logged_in = True
            elif command == "SELECT":
                self._send(f"* {len(mailbox.messages)} EXISTS")
            elif command == "UID SEARCH":
                numbers, _, criteria = args.partition(" ")
                assert criteria in ("ALL", "UNKEYWORD $CoopmailProcessed")
                first, _, last = numbers.partition(":")
                window = sorted(mailbox.messages)[int(first) - 1 : int(last)]
                found = [
                    str(uid)
                    for uid in window
                    if criteria == "ALL" or "$CoopmailProcessed" not in mailbox.flags[uid]
                ]
                mailbox.searched.append(len(found))
                self._send("* SEARCH " + " ".join(found))
            elif command == "UID FETCH":
                uid = int(args.split(" ")[0])
                assert "BODY.PEEK[]" in args  # reading must not set \Seen
                data = mailbox.messages[uid]
                self.wfile.write(b"* %d FETCH (UID %d BODY[]<0> {%d}\r\n" % (uid, uid, len(data)))
                self.wfile.write(data + b")\r\n")
            elif command == "UID STORE":
                uid_text, _, flags = args.split(" ", 2)
                mailbox.flags[int(uid_text)].update(flags.strip("()").split())
            elif command == "UID MOVE" and self.server.move:
                uid_text, _, folder = args.partition(" ")
                mailbox.moved[folder.strip('"')].append(mailbox.messages.pop(int(uid_text)))
            elif command == "UID COPY":
                uid_text, _, folder = args.partition(" ")
                mailbox.moved[folder.strip('"')].append(mailbox.messages[int(uid_text)])
            elif command == "LOGOUT":
                self._send("* BYE")
                self._send(f"{tag} OK LOGOUT completed")
                return
            elif command not in ("CLOSE",):
                self._send(f"{tag} BAD unknown command")
                continue
            self._send(f"{tag} OK {command} completed")

    def _send(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")


@dataclass
class _Mailbox:
    messages: dict[int, bytes]
    flags: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))
    moved: dict[str, list[bytes]] = field(default_factory=lambda: defaultdict(list))
    commands: list[str] = field(default_factory=list)
    searched: list[int] = field(default_factory=list)  # how many UIDs each SEARCH returned


class _ImapServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self, mailbox: _Mailbox, context: ssl.SSLContext, *, implicit_tls: bool, move: bool
    ) -> None:
        super().__init__(("127.0.0.1", 0), _ImapHandler)
        self.mailbox = mailbox
        self.context = context
        self.implicit_tls = implicit_tls
        self.secured = implicit_tls
        self.move = move

    def capabilities(self, logged_in: bool) -> str:
        """Like Dovecot's: extensions such as MOVE are announced after LOGIN only."""
        offered = ["IMAP4rev1"] + (["MOVE"] if self.move and logged_in else [])
        return " ".join(offered + ([] if self.secured else ["STARTTLS"]))

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = super().get_request()
        if self.implicit_tls:
            return self.context.wrap_socket(connection, server_side=True), address
        return connection, address

    def url(self, password: str = "s3cret%20pw", path: str = "INBOX") -> str:
        scheme = "imaps" if self.implicit_tls else "imap"
        return f"{scheme}://bounces:{password}@127.0.0.1:{self.server_address[1]}/{path}"


ImapFactory = Callable[..., _ImapServer]


@pytest.fixture
def imap_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ImapFactory]:
    """Starts TLS IMAP servers on loopback holding every sample; their CA is trusted
    through SSL_CERT_FILE, as a system CA would be."""
    authority = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    names = sorted(path.name for path in SAMPLES.glob("*.eml"))
    servers: list[_ImapServer] = []

    def start(*, implicit_tls: bool = True, move: bool = True) -> _ImapServer:
        mailbox = _Mailbox(
            messages={uid: (SAMPLES / name).read_bytes() for uid, name in enumerate(names, 1)}
        )
        server = _ImapServer(mailbox, context, implicit_tls=implicit_tls, move=move)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_imap_over_tls_moves_or_flags_what_it_recorded(
    bounces: Cli, imap_server: ImapFactory
) -> None:
    server = imap_server()
    flagged = bounces.ok("bounces", "process", "--imap", server.url(), "--json").json()
    assert (flagged["messages"], flagged["hard"], flagged["complaints"]) == (12, 6, 1)
    mailbox = server.mailbox
    assert all(mailbox.flags[uid] == {"\\Seen", "$CoopmailProcessed"} for uid in mailbox.messages)
    assert "UID MOVE" not in mailbox.commands  # without ?move= nothing leaves the folder
    again = bounces.ok("bounces", "process", "--imap", server.url(), "--json").json()
    assert again["messages"] == 0  # the keyword makes the next run skip them

    # Moving, everything still in the folder is read again, flagged or not: a run that
    # died between the flag and the move must not leave its message behind for good.
    moved = bounces.ok(
        "bounces", "process", "--imap", server.url() + "?move=Processed", "--json"
    ).json()
    assert (moved["messages"], moved["duplicates"]) == (12, 10)
    assert mailbox.messages == {} and len(mailbox.moved["Processed"]) == 12


def test_a_large_imap_folder_is_searched_a_window_at_a_time(
    bounces: Cli, imap_server: ImapFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # imaplib refuses a response line over 1 MB: one SEARCH of a folder with some 140,000
    # unprocessed messages would fail every run, and the backlog only grow.
    monkeypatch.setattr("coopmail.bouncesources.IMAP_SEARCH_WINDOW", 5)
    server = imap_server()
    result = bounces.ok("bounces", "process", "--imap", server.url(), "--json").json()
    assert result["messages"] == 12
    assert server.mailbox.searched == [5, 5, 2]


def test_imap_with_starttls_and_no_move_copies_and_keeps_the_original(
    bounces: Cli, imap_server: ImapFactory
) -> None:
    server = imap_server(implicit_tls=False, move=False)
    result = bounces.ok(
        "bounces", "process", "--imap", server.url() + "?move=Done", "--json"
    ).json()
    assert result["messages"] == 12
    mailbox = server.mailbox
    assert mailbox.commands[:3] == ["CAPABILITY", "STARTTLS", "CAPABILITY"]  # TLS before LOGIN
    assert len(mailbox.moved["Done"]) == 12 and len(mailbox.messages) == 12  # nothing deleted
    assert all("$CoopmailProcessed" in flags for flags in mailbox.flags.values())


def test_imap_refusals_are_one_line_without_the_password(
    bounces: Cli, imap_server: ImapFactory
) -> None:
    server = imap_server()
    result = bounces("bounces", "process", "--imap", server.url(password="wrong", path=""))
    port = server.server_address[1]
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: cannot read imaps://bounces@127.0.0.1:{port}/INBOX")
    assert "AUTHENTICATIONFAILED" in result.stderr and "wrong" not in result.stderr
    quoted = bounces("bounces", "process", "--imap", server.url(password="a%22b%5Cc%20d"))
    assert "refused: LOGIN bounces" in quoted.stderr
    assert 'a\\"b\\\\c d' not in quoted.stderr and "c d" not in quoted.stderr
