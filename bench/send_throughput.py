"""Send throughput side by side in one run, and where each microsecond of a message goes.

On loopback, into one Postfix smtp-sink, in one run:
  1. smtp-source (Postfix's C load generator) and `coopmail campaigns send` (a delivery
     process per core, or --workers) at two message sizes, about 15 KB and 30 KB, on the
     same number of connections;
  2. django-newsletter 1.2 (installed by this script into a virtualenv of its own, run on
     SQLite in a minimal Django project made here) against coopmail, same letter and
     recipients (--newsletter, 10,000 by default);
  3. the peak RSS of every process (Linux VmHWM);
  4. the per-message CPU budget: one `coopmail worker` under py-spy (native stacks, so
     samples waiting on a lock or in epoll are dropped), each sample put in the step its
     innermost frame belongs to, the shares scaled by the process's CPU time per message.
     DKIM is timed apart, as it is off unless configured.

    .venv/bin/python bench/send_throughput.py [--recipients 20000] [--newsletter 10000]
        [--concurrency 16] [--workers N] [--skip-django] [--markdown FILE]

Needs Debian's postfix (smtp-sink, smtp-source) and py-spy (the dev extra); django-newsletter
comes from PyPI into bench/out/django-newsletter-venv on the first run.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from campaigns.compose import Composer
from campaigns.content import parse_content, read_content
from campaigns.links import Links
from campaigns.messages import MessageFactory, Recipient
from campaigns.models import SourceFormat
from coopmail.db import make_engine, session_scope, upgrade
from coopmail.sending import cores
from subscribers.importer import import_csv
from subscribers.lists import create_list
from templates import sample_path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
KEY = "bench-secret-key-bench-secret-key"
SENDER = "Cooperatives Unit <coop@example.org>"
PYTHON = sys.executable


# --- the letter, the database, the sink -------------------------------------------------------


@dataclass
class Letter:
    body: str  # Markdown, for coopmail's content file
    meta: dict[str, object]
    subject: str
    html: str  # the inlined HTML as sent (django-newsletter's article text)
    message_bytes: int  # one personalised message as coopmail sends it


def letter_of(composer: Composer, kilobytes: int) -> Letter:
    """The sample letter, lengthened until one personalised message is `kilobytes` KB."""
    sample = read_content(sample_path("solidarity-letter"))
    sentences = [
        sentence.strip() + "."
        for part in sample.body.split("\n\n")
        if len(part) > 200 and not part.startswith(("#", "-", "*", ">"))
        for sentence in part.split(". ")
        if len(sentence) > 60
    ]
    body, added = sample.body, 0
    while True:
        content = parse_content("---\n---\n" + body, name="letter.md", format=SourceFormat.MARKDOWN)
        content = type(content)(**{**content.__dict__, "meta": sample.meta})
        composition = composer.compose(
            content=content, template="solidarity-letter", subject=sample.header["subject"]
        )
        factory = MessageFactory(
            composition=composition,
            links=Links(base_url="https://news.example.org", key=KEY.encode(), campaign_id=1),
            sender=SENDER,
            reply_to=None,
            list_title="Bench",
            list_id="bench.news.example.org",
            message_id_domain="example.org",
        )
        message = factory.build(
            Recipient(subscriber_id=1, list_id=1, email="p@coop.example.org", name="Partner 1"),
            now=datetime.now(UTC),
        )
        if len(message) > kilobytes * 1100 and added == 0 and "\n\n" in body.strip():
            body = body.strip().rsplit("\n\n", 1)[0]  # the sample is too long: shorten it
            continue
        if len(message) >= kilobytes * 1000:
            return Letter(
                body=body,
                meta=dict(sample.meta),
                subject=sample.header["subject"],
                html=composition.html.fill({"name": "Partner"}),
                message_bytes=len(message),
            )
        body += ("\n\n" if added % 4 == 0 else " ") + sentences[added % len(sentences)]
        added += 1


def prepare_database(workdir: Path, name: str, recipients: int, letter: Letter) -> dict[str, str]:
    """A fresh SQLite database with `recipients` partners and the letter as a content file;
    the environment for `coopmail` commands on it."""
    url = f"sqlite:///{workdir / f'{name}.db'}"
    engine = make_engine(url)
    upgrade(engine)
    source = workdir / f"{name}.csv"
    with source.open("w") as handle:
        handle.write("email,name,language\n")
        for index in range(recipients):
            handle.write(f"partner.{index}@coop{index % 997}.example.org,Partner {index},fr\n")
    front = "".join(
        f"{key}: {value!r}\n" for key, value in letter.meta.items() if isinstance(value, str)
    )
    (workdir / f"{name}.md").write_text(
        f"---\nsubject: {letter.subject!r}\ntemplate: solidarity-letter\nlists: [bench]\n"
        f"signature: [Cooperatives Unit]\n{front}---\n{letter.body}"
    )
    with session_scope(engine) as session:
        mailing_list = create_list(session, name="bench")
        session.commit()
        with source.open("rb") as handle:
            import_csv(
                session,
                source=handle,
                mailing_list=mailing_list,
                rejects_path=workdir / f"{name}-rejects.csv",
                wording="bench",
            )
    engine.dispose()
    return {
        **os.environ,
        "COOPMAIL_DATABASE_URL": url,
        "COOPMAIL_SECRET_KEY": KEY,
        "COOPMAIL_CONFIG": "",
        "COOPMAIL_FROM": SENDER,
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def smtp_sink() -> Iterator[int]:
    binary = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"
    if not Path(binary).exists():
        raise SystemExit("smtp-sink not found: apt-get install postfix")
    port = free_port()
    user = ["-u", "nobody"] if os.geteuid() == 0 else []
    sink = subprocess.Popen(
        [binary, *user, f"127.0.0.1:{port}", "1024"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    try:
        yield port
    finally:
        sink.terminate()
        sink.wait()


# --- measuring processes ----------------------------------------------------------------------


@dataclass
class Run:
    rate: float  # messages a second
    peaks_mb: dict[str, float] = field(default_factory=dict)  # process -> peak RSS
    cpu_us: float = 0.0  # CPU per message of the measured process, µs


def _descendants(pid: int) -> list[int]:
    """Children, grandchildren... of a process, from /proc/PID/task/*/children: cheap
    enough to poll without taking CPU from what is measured."""
    found, frontier = [], [pid]
    while frontier:
        current = frontier.pop()
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                children = [int(child) for child in task.read_text().split()]
            except OSError:
                continue
            found += children
            frontier += children
    return found


def _status(pid: int) -> tuple[str, float]:
    """(name, peak RSS in MB) of a live process."""
    name, peak = "?", 0.0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        name = " ".join(part.decode(errors="replace") for part in command[1:6] if part)
    except OSError:
        pass
    return name, peak


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def watched(
    command: list[str], *, env: dict[str, str], cwd: Path
) -> tuple[float, dict[str, float]]:
    """Run a command to its end; seconds taken and the peak RSS of it and its children."""
    peaks: dict[str, float] = {}
    started = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    while process.poll() is None:
        for index, pid in enumerate([process.pid, *_descendants(process.pid)]):
            name, peak = _status(pid)
            key = "main" if index == 0 else f"{name} [{pid}]"
            if "resource_tracker" not in name:
                peaks[key] = max(peaks.get(key, 0.0), peak)
        time.sleep(0.25)
    elapsed = time.perf_counter() - started
    _, errors = process.communicate()
    if process.returncode:
        raise SystemExit(f"{' '.join(command[:6])} failed: {errors.decode()[-2000:]}")
    return elapsed, peaks


def coopmail(*args: str, env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(
        [PYTHON, "-m", "coopmail", *args], env=env, cwd=cwd, capture_output=True, check=False
    )
    if done.returncode:
        raise SystemExit(f"coopmail {' '.join(args)} failed: {done.stderr.decode()[-2000:]}")
    return done.stdout.decode()


def queued_campaign(name: str, env: dict[str, str], workdir: Path) -> str:
    created = json.loads(
        coopmail("campaigns", "create", "--content", f"{name}.md", "--json", env=env, cwd=workdir)
    )
    campaign = str(created["id"])
    coopmail("campaigns", "send", campaign, "--detach", env=env, cwd=workdir)
    return campaign


def coopmail_send(
    name: str, env: dict[str, str], workdir: Path, *, concurrency: int, workers: int, expected: int
) -> Run:
    """`coopmail campaigns send` in the foreground on a queued campaign, timed to its end."""
    campaign = queued_campaign(name, env, workdir)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    elapsed, peaks = watched(
        [PYTHON, "-m", "coopmail", "campaigns", "send", campaign, "--concurrency", str(concurrency),
         "--workers", str(workers), "--json"],
        env=env,
        cwd=workdir,
    )  # fmt: skip
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    counts = json.loads(coopmail("campaigns", "status", campaign, "--json", env=env, cwd=workdir))
    if counts["sent"] != expected:
        raise SystemExit(f"coopmail sent {counts['sent']} of {expected}: {counts}")
    named = {("campaigns send" if key == "main" else "delivery process"): 0.0 for key in peaks}
    for key, peak in peaks.items():
        label = "campaigns send" if key == "main" else "delivery process"
        named[label] = max(named[label], peak)
    return Run(rate=expected / elapsed, peaks_mb=named, cpu_us=cpu / expected * 1e6)


def smtp_source(port: int, *, messages: int, size: int, sessions: int) -> Run:
    binary = shutil.which("smtp-source") or "/usr/sbin/smtp-source"
    elapsed, peaks = watched(
        [binary, "-d", "-s", str(sessions), "-l", str(size), "-m", str(messages),
         "-f", "coop@example.org", "-t", "partner@example.org", f"127.0.0.1:{port}"],
        env=dict(os.environ),
        cwd=ROOT,
    )  # fmt: skip
    return Run(rate=messages / elapsed, peaks_mb={"smtp-source": peaks.get("main", 0.0)})


# --- django-newsletter ------------------------------------------------------------------------

_DJANGO_SETTINGS = """\
SECRET_KEY = "bench-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
SITE_ID = 1
ROOT_URLCONF = "benchurls"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
INSTALLED_APPS = [
    "django.contrib.contenttypes", "django.contrib.auth", "django.contrib.sites",
    "django.contrib.sessions", "sorl.thumbnail", "newsletter",
]
DATABASES = {{"default": {{"ENGINE": "django.db.backends.sqlite3", "NAME": {database!r}}}}}
TEMPLATES = [{{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True,
              "OPTIONS": {{"context_processors": []}}}}]
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = "127.0.0.1"
EMAIL_PORT = {port}
"""

_DJANGO_URLS = """\
from django.urls import include, path
urlpatterns = [path("newsletter/", include("newsletter.urls"))]
"""

_DJANGO_RUN = """\
import os, sys, time
from datetime import timedelta
os.environ["DJANGO_SETTINGS_MODULE"] = "benchsettings"
sys.path.insert(0, os.getcwd())
import django
django.setup()
from django.core.management import call_command
from django.utils import timezone
call_command("migrate", verbosity=0)
from newsletter.models import Article, Message, Newsletter, Submission, Subscription
newsletter = Newsletter.objects.create(
    title="Bench", slug="bench", email="coop@example.org", sender="Cooperatives Unit")
Subscription.objects.bulk_create(
    [Subscription(newsletter=newsletter, name_field=f"Partner {i}",
                  email_field=f"partner.{i}@coop{i % 997}.example.org", subscribed=True)
     for i in range(int(sys.argv[1]))], batch_size=1000)
message = Message.objects.create(title=SUBJECT, slug="letter", newsletter=newsletter)
Article.objects.create(post=message, title=SUBJECT, text=open("article.html").read(),
                       sortorder=1)
submission = Submission.from_message(message)
submission.prepared = True
submission.publish_date = timezone.now() - timedelta(minutes=1)
submission.save()
started = time.perf_counter()
Submission.submit_queue()
print(time.perf_counter() - started)
"""


def django_newsletter(port: int, *, letter: Letter, recipients: int) -> Run:
    """django-newsletter's own submit (`Submission.submit_queue`, what its submit_newsletter
    command runs), timed alone, with its peak RSS (Django's start included)."""
    venv = OUT / "django-newsletter-venv"
    python = venv / "bin" / "python"
    if not python.exists():
        print("installing django-newsletter 1.2 into bench/out (once) ...", flush=True)
        subprocess.run([PYTHON, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "django-newsletter>=1.2,<1.3",
             "sorl-thumbnail>=12.9"],
            check=True,
        )  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="coopmail-bench-django-") as scratch:
        project = Path(scratch)
        (project / "benchsettings.py").write_text(
            _DJANGO_SETTINGS.format(database=str(project / "django.db"), port=port)
        )
        (project / "benchurls.py").write_text(_DJANGO_URLS)
        (project / "article.html").write_text(letter.html)
        (project / "run.py").write_text(_DJANGO_RUN.replace("SUBJECT", repr(letter.subject)))
        peaks: dict[str, float] = {}
        process = subprocess.Popen(
            [str(python), "run.py", str(recipients)],
            cwd=project,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        while process.poll() is None:
            peaks["django-newsletter"] = max(
                peaks.get("django-newsletter", 0.0), _status(process.pid)[1]
            )
            time.sleep(0.25)
        output, errors = process.communicate()
        if process.returncode:
            raise SystemExit(f"django-newsletter failed: {errors.decode()[-2000:]}")
        seconds = float(output.decode().strip().splitlines()[-1])
    return Run(rate=recipients / seconds, peaks_mb=peaks)


# --- the budget -------------------------------------------------------------------------------

# Each sample goes to the first step whose marker is in its innermost matching Python frame.
_STEPS = [
    ("claim (SQL: select, lease)", ("claim (campaigns/outbox.py", "_claim_statement")),
    ("record (SQL: outcomes)",
     ("record (campaigns/outbox.py", "release (campaigns/outbox.py", "skip_opted_out")),
    ("eligibility re-check (SQL)", ("_recheck (campaigns/worker.py", "still_eligible")),
    ("ledger round: commit, leases, rest",
     ("Ledger.", "_WriterTurns", "finish_campaigns", "renew (", "take_over")),
    ("personalise: signed links", ("campaigns/links.py", "subscribers/tokens.py")),
    ("personalise: Message-ID", ("make_message_id",)),
    ("personalise: slots, headers, MIME/QP",
     ("MessageFactory.", "mailer/mime.py", "mailer/skeleton.py", "mailer/headers.py",
      "campaigns/slots.py")),
    ("DKIM", ("mailer/dkim.py",)),
    ("SMTP: dot-stuffing, commands, replies", ("mailer/smtp.py",)),
    ("worker: judge, hand-offs, buffer",
     ("campaigns/worker.py", "campaigns/replies.py", "_chain_future", "run_in_executor")),
]  # fmt: skip
_IDLE = ("pthread_cond", "epoll_", "sem_wait", "sem_timedwait", "futex", "poll (")
_KERNEL = [
    ("socket writes (kernel)", ("writev", "write (", "sendmsg", "send (")),
    ("socket reads (kernel)", ("read (", "recv")),
    ("SQLite file I/O (kernel)", ("fdatasync", "pwrite", "pread", "fsync")),
]


def _step(frames: list[str]) -> str | None:
    python = [frame for frame in frames if ".py:" in frame]
    tail = frames[frames.index(python[-1]) + 1 :] if python else frames
    if any(any(idle in frame for idle in _IDLE) for frame in tail):
        return None  # waiting for the GIL, a lock or the network: not on a CPU
    if python and "concurrent/futures/thread.py:81" in python[-1]:
        return None  # the ledger thread waiting for work
    if any("importlib" in frame or "<module>" in frame for frame in python[-3:]):
        return "start-up"
    leaf = frames[-1]
    if "libc" in leaf:
        for label, names in _KERNEL:
            if any(leaf.startswith(name) for name in names):
                return label
    for frame in reversed(python):
        if frame.startswith(("run (mailer/smtp.py", "DeliveryWorker.run ")):
            break
        for label, markers in _STEPS:
            if any(marker in frame for marker in markers):
                return label
    if any(name in frame for frame in frames for name in ("sqlalchemy", "sqlite3", "psycopg")):
        return "ledger round: commit, leases, rest"
    return "event loop (uvloop), other"


def budget(
    port: int, name: str, env: dict[str, str], workdir: Path, *, concurrency: int, expected: int
) -> tuple[list[tuple[str, float]], float]:
    """Rows of (step, µs per message) from one worker under py-spy, and its CPU per message."""
    spy = shutil.which("py-spy") or str(Path(PYTHON).with_name("py-spy"))
    if not Path(spy).exists():
        raise SystemExit("py-spy not found: pip install py-spy (it is in the dev extra)")
    campaign = queued_campaign(name, env, workdir)
    samples = workdir / "budget.txt"
    recorder = subprocess.Popen(
        [spy, "record", "--native", "--format", "raw", "--rate", "100", "--output", str(samples),
         "--", PYTHON, "-m", "coopmail", "worker", "--concurrency", str(concurrency)],
        env=env, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    engine = make_engine(env["COOPMAIL_DATABASE_URL"])
    worker_pid, cpu = 0, 0.0
    with engine.connect() as connection:
        from sqlalchemy import text

        while True:
            status = connection.execute(
                text("SELECT status FROM campaigns WHERE id = :id"), {"id": int(campaign)}
            ).scalar_one()
            connection.rollback()
            children = _descendants(recorder.pid)
            worker_pid = children[0] if children else 0
            if worker_pid:
                cpu = _cpu_seconds(worker_pid)
            if status == "sent":
                break
            time.sleep(0.2)
    engine.dispose()
    os.kill(worker_pid, signal.SIGTERM)
    recorder.wait(timeout=120)
    counts: collections.Counter[str] = collections.Counter()
    for line in samples.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        step = _step(stack.split(";"))
        if step is not None:
            counts[step] += int(count)
    start_up = counts.pop("start-up", 0)
    busy = sum(counts.values())
    # The process's CPU time less its start-up's share, spread over the messages it sent.
    per_message = cpu * busy / (busy + start_up) / expected * 1e6
    return [(step, per_message * n / busy) for step, n in counts.most_common()], per_message


def dkim_costs(message_kb: int) -> list[tuple[str, float]]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    from mailer.dkim import DkimSigner

    message = b"From: a@example.org\r\nTo: b@example.org\r\nSubject: x\r\n\r\n" + (
        b"y" * 76 + b"\r\n"
    ) * (message_kb * 1000 // 78)
    keys = {
        "RSA-2048": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "Ed25519": ed25519.Ed25519PrivateKey.generate(),
    }
    rows = []
    for name, key in keys.items():
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        signer = DkimSigner(selector="bench", domain="example.org", private_key=pem)
        signer.sign(message)
        started = time.process_time()
        for _ in range(200):
            signer.sign(message)
        rows.append((f"DKIM {name} (when on)", (time.process_time() - started) / 200 * 1e6))
    return rows


# --- the report -------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=20_000)
    parser.add_argument("--newsletter", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=16, help="connections per process")
    parser.add_argument("--workers", type=int, default=cores(), help="delivery processes")
    parser.add_argument("--sizes", default="15,30", help="message sizes in KB")
    parser.add_argument("--skip-django", action="store_true")
    parser.add_argument("--markdown", type=Path, help="also write the tables to this file")
    args = parser.parse_args()
    composer = Composer()
    sizes = [int(size) for size in args.sizes.split(",")]
    lines: list[str] = []

    def say(text: str = "") -> None:
        print(text, flush=True)
        lines.append(text)

    def row(*cells: object) -> None:
        say("| " + " | ".join(str(cell) for cell in cells) + " |")

    say(
        f"# Send throughput ({cores()} cores, {args.workers} delivery processes x "
        f"{args.concurrency} connections, smtp-sink on loopback)"
    )
    with tempfile.TemporaryDirectory(prefix="coopmail-bench-") as scratch, smtp_sink() as port:
        workdir = Path(scratch)
        sink_env_url = f"smtp://127.0.0.1:{port}?max_messages=1000"
        letters = {size: letter_of(composer, size) for size in sizes}
        say()
        row("message", "processes", "smtp-source msg/s", "coopmail msg/s",
            "coopmail / smtp-source", "coopmail CPU per message",
            "peak RSS (send / each delivery process)")  # fmt: skip
        row("---", "---:", "---:", "---:", "---:", "---:", "---")
        for size, letter in letters.items():
            for workers in sorted({1, args.workers}):
                name = f"letter{size}-{workers}"
                env = {
                    **prepare_database(workdir, name, args.recipients, letter),
                    "COOPMAIL_SMTP_URL": sink_env_url,
                }
                ceiling = smtp_source(
                    port,
                    messages=args.recipients,
                    size=letter.message_bytes,
                    sessions=workers * args.concurrency,
                )
                ours = coopmail_send(
                    name,
                    env,
                    workdir,
                    concurrency=args.concurrency,
                    workers=workers,
                    expected=args.recipients,
                )
                peaks = " / ".join(f"{peak:.0f} MB" for peak in ours.peaks_mb.values())
                row(
                    f"{letter.message_bytes / 1000:.1f} KB x {args.recipients:,}",
                    workers,
                    f"{ceiling.rate:,.0f}",
                    f"{ours.rate:,.0f}",
                    f"{ours.rate / ceiling.rate:.2f} (goal 0.6)",
                    f"{ours.cpu_us:.0f} µs",
                    peaks,
                )
        if not args.skip_django:
            letter = letters[sizes[0]]
            name = "newsletter"
            env = {
                **prepare_database(workdir, name, args.newsletter, letter),
                "COOPMAIL_SMTP_URL": sink_env_url,
            }
            ours = coopmail_send(
                name,
                env,
                workdir,
                concurrency=args.concurrency,
                workers=args.workers,
                expected=args.newsletter,
            )
            theirs = django_newsletter(port, letter=letter, recipients=args.newsletter)
            say()
            row(f"{args.newsletter:,} recipients, {letter.message_bytes / 1000:.1f} KB", "msg/s",
                "peak RSS")  # fmt: skip
            row("---", "---:", "---")
            their_peak = theirs.peaks_mb["django-newsletter"]
            row("django-newsletter 1.2 (SQLite)", f"{theirs.rate:,.0f}", f"{their_peak:.0f} MB")
            peaks = " / ".join(f"{peak:.0f} MB" for peak in ours.peaks_mb.values())
            say(f"| coopmail campaigns send (SQLite) | {ours.rate:,.0f} | {peaks} |")
            say(f"| coopmail CPU per message, all processes | {ours.cpu_us:,.0f} µs | |")
            say(f"| coopmail / django-newsletter | {ours.rate / theirs.rate:.1f} x (goal 10 x) | |")
        letter = letters[sizes[0]]
        name = "budget"
        env = {
            **prepare_database(workdir, name, args.recipients, letter),
            "COOPMAIL_SMTP_URL": sink_env_url,
        }
        rows, per_message = budget(
            port, name, env, workdir, concurrency=args.concurrency, expected=args.recipients
        )
        say()
        say(
            f"Per-message CPU budget of one delivery process "
            f"({letter.message_bytes / 1000:.1f} KB, "
            f"py-spy, native stacks): {per_message:.0f} µs"
        )
        say()
        say("| step | µs per message | share |")
        say("| --- | ---: | ---: |")
        for step, micros in rows:
            say(f"| {step} | {micros:.0f} | {100 * micros / per_message:.0f} % |")
        for step, micros in dkim_costs(letter.message_bytes // 1000):
            say(f"| {step} | {micros:.0f} | not in the total |")
    if args.markdown:
        args.markdown.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
