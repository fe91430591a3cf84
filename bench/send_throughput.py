"""End-to-end send throughput into Postfix's smtp-sink, next to the harness's own ceiling.

In one run, against the same smtp-sink on loopback and the same ~15 KB letter:
  - smtp-source (Postfix's C load generator): the most this harness can take;
  - coopmail, the full pipeline (claim -> personalise -> MIME -> SMTP -> record) with one
    worker process, then with two (this machine has two cores);
  - smtplib sending pre-built bytes on one connection;
  - the naive pipeline: per recipient render + premailer + EmailMessage + smtplib.
Prints msg/s, the ratios and the peak RSS of the worker processes.

    .venv/bin/python bench/send_throughput.py [--recipients 100000] [--concurrency 4]

Needs Debian's postfix package for smtp-sink and smtp-source (apt-get install postfix).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from personalise import letter, naive  # bench/ is on sys.path when run as a script

from campaigns.compose import Composer
from campaigns.models import Campaign, CampaignStatus
from campaigns.outbox import delivery_counts
from coopmail.db import make_engine, session_scope, upgrade
from subscribers.importer import import_csv
from subscribers.lists import create_list

ROOT = Path(__file__).resolve().parent.parent
KEY = "bench-secret-key-bench-secret-key"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def scratch_schema(base: str) -> Iterator[str]:
    """A PostgreSQL schema of its own for this run, dropped afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    schema = f"coopmail_bench_{os.getpid()}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def smtp_sink() -> Iterator[int]:
    binary = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"
    if not Path(binary).exists():
        raise SystemExit("smtp-sink not found: apt-get install postfix")
    port = free_port()
    sink = subprocess.Popen(
        [binary, "-u", "nobody", f"127.0.0.1:{port}", "1024"],
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


def smtp_source_rate(port: int, messages: int, size: int, sessions: int) -> float:
    binary = shutil.which("smtp-source") or "/usr/sbin/smtp-source"
    started = time.perf_counter()
    subprocess.run(
        [
            binary,
            "-d",
            "-s",
            str(sessions),
            "-l",
            str(size),
            "-m",
            str(messages),
            f"127.0.0.1:{port}",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return messages / (time.perf_counter() - started)


def prepare(workdir: Path, recipients: int, url: str) -> tuple[str, int, int]:
    """A fresh database with `recipients` partners, and the letter as a content file."""
    engine = make_engine(url)
    upgrade(engine)
    source = workdir / "partners.csv"
    with source.open("w") as handle:
        handle.write("email,name,language\n")
        for index in range(recipients):
            handle.write(f"partner.{index}@coop{index % 997}.example.org,Partner {index},fr\n")
    composer = Composer()
    content, header, _, size = letter(composer)
    content_file = workdir / "letter.md"
    front = "".join(
        f"{key}: {value!r}\n" for key, value in content.meta.items() if isinstance(value, str)
    )
    content_file.write_text(
        f"---\nsubject: {header['subject']!r}\ntemplate: solidarity-letter\nlists: [bench]\n"
        f"signature: [Cooperatives Unit]\n{front}---\n{content.body}"
    )
    with session_scope(engine) as session:
        mailing_list = create_list(session, name="bench")
        session.commit()
        with source.open("rb") as handle:
            import_csv(
                session,
                source=handle,
                mailing_list=mailing_list,
                rejects_path=workdir / "rejects.csv",
                wording="bench",
            )
    engine.dispose()
    return url, size, recipients


def coopmail(*args: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "coopmail", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def peak_rss_mb(pid: int) -> float:
    """The peak resident memory of a running process so far (Linux: VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def pipeline_rate(
    url: str, port: int, concurrency: int, processes: int, workdir: Path
) -> tuple[float, float]:
    """Create the campaign, queue it, and time worker processes until it is sent; returns
    msg/s and the largest peak RSS of a worker."""
    env = {
        **os.environ,
        "COOPMAIL_DATABASE_URL": url,
        "COOPMAIL_SECRET_KEY": KEY,
        "COOPMAIL_SMTP_URL": f"smtp://127.0.0.1:{port}?max_messages=1000",
        "COOPMAIL_CONFIG": "",
    }
    created = coopmail(
        "campaigns", "create", "--content", str(workdir / "letter.md"), "--json", env=env
    )
    output, errors = created.communicate()
    if created.returncode:
        raise SystemExit(errors.decode())
    campaign_id = int(output.decode().split(":")[1].strip(" }\n"))
    queued = coopmail("campaigns", "send", str(campaign_id), "--detach", "--json", env=env)
    queued.communicate()
    engine = make_engine(url)
    started = time.perf_counter()
    workers = [
        coopmail("worker", "--concurrency", str(concurrency), env=env) for _ in range(processes)
    ]
    with session_scope(engine, write=False) as session:
        while True:
            session.rollback()
            status = session.get(Campaign, campaign_id)
            if status is not None and status.status is CampaignStatus.SENT:
                break
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        counts = delivery_counts(session, campaign_id=campaign_id)
    peak = max(peak_rss_mb(worker.pid) for worker in workers)
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
    for worker in workers:
        worker.communicate(timeout=60)
    engine.dispose()
    if counts["sent"] != sum(counts.values()):
        raise SystemExit(f"not everything was sent: {counts}")
    return counts["sent"] / elapsed, peak


def prebuilt_smtplib_rate(port: int, messages: int, size: int) -> float:
    body = b"Subject: bench\r\n\r\n" + (b"x" * 76 + b"\r\n") * (size // 78)
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as client:
        for index in range(messages):
            client.sendmail("coop@example.org", [f"p{index}@example.org"], body)
    return messages / (time.perf_counter() - started)


def naive_rate(port: int, messages: int) -> float:
    """Per recipient: render, inline, build (as in bench/personalise.py), then smtplib."""
    from personalise import recipients

    composer = Composer()
    content, header, _, _ = letter(composer)
    people = recipients(messages)
    started = time.perf_counter()
    naive(composer, content, header, people)  # build cost
    build = time.perf_counter() - started
    body = b"Subject: bench\r\n\r\n" + (b"x" * 76 + b"\r\n") * 200
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as client:
        for person in people:
            client.sendmail("coop@example.org", [person.email], body)
    return messages / (build + time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--naive", type=int, default=300)
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="also run two workers on PostgreSQL (a scratch schema at URL)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="coopmail-bench-") as scratch, smtp_sink() as port:
        workdir = Path(scratch)
        url, size, recipients = prepare(workdir, args.recipients, f"sqlite:///{workdir / 's.db'}")
        ceiling = smtp_source_rate(port, min(args.recipients, 50_000), size, args.concurrency)
        one, one_mb = pipeline_rate(url, port, args.concurrency, 1, workdir)
        two, two_mb = pipeline_rate(url, port, args.concurrency, 2, workdir)
        pg_two, pg_mb = 0.0, 0.0
        if args.postgres:
            with scratch_schema(args.postgres) as pg_url:
                prepare(workdir, args.recipients, pg_url)
                pg_two, pg_mb = pipeline_rate(pg_url, port, args.concurrency, 2, workdir)
        worker_mb = max(one_mb, two_mb, pg_mb)
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        prebuilt = prebuilt_smtplib_rate(port, 5_000, size)
        naive_per_s = naive_rate(port, args.naive)
    best = max(one, two, pg_two)
    print(f"recipients               {recipients:>10,}  ({size / 1000:.1f} KB letter)")
    print(f"smtp-source (ceiling)    {ceiling:>10,.0f} msg/s")
    print(f"coopmail, 1 worker       {one:>10,.0f} msg/s  ({args.concurrency} connections)")
    print(f"coopmail, 2 workers      {two:>10,.0f} msg/s  (SQLite: one writer at a time)")
    if pg_two:
        print(f"coopmail, 2 workers, PG  {pg_two:>10,.0f} msg/s")
    print(f"smtplib, pre-built bytes {prebuilt:>10,.0f} msg/s  (1 connection)")
    print(f"naive pipeline           {naive_per_s:>10,.0f} msg/s  ({args.naive} messages)")
    print(f"best / smtp-source       {best / ceiling:>10.2f}   (goal >= 0.6)")
    print(f"best / naive             {best / naive_per_s:>10.1f} x (goal >= 30)")
    print(f"peak RSS of a worker     {worker_mb:>10.0f} MB   (goal <= 150 MB at 1,000,000)")
    print(f"peak RSS of any process  {peak_mb:>10.0f} MB   (queueing and the CLI included)")


if __name__ == "__main__":
    main()
