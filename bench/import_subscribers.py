"""Import a generated CSV of 1,000,000 rows (1 % bad) into a fresh SQLite database.

Prints rows/s and the peak RSS of the import process, and, measured in the same run, two
references: the naive way (email-validator + one ORM object per row) on a sample, and the
storage floor (sqlite3 executemany of the bare subscriber rows, no validation).

    .venv/bin/python bench/import_subscribers.py [--rows 1000000] [--workdir bench/out]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL_ROWS_PER_S = 50_000
GOAL_RSS_MB = 150

BAD_ROWS = [
    b"not-an-address,Someone,en,Org\n",
    b'bad@example.org,"Line\nbreak",en,Org\n',
    b"nul@example.org,Nul\x00Name,en,Org\n",
    b"bytes@example.org,Caf\xe9 \xff,fr,Org\n",
    b"big@example.org," + b"x" * 5000 + b",en,Org\n",
    b"double..dot@example.org,Someone,en,Org\n",
    b"x@localhost,Someone,en,Org\n",
]
LANGUAGES = [b"en", b"fr", b"es", b"pt-BR", b"ar", b""]


def generate(path: Path, rows: int) -> None:
    rng = random.Random(2026)
    with path.open("wb") as handle:
        handle.write(b"email,name,language,organisation\n")
        for index in range(rows):
            if index % 100 == 37:
                handle.write(BAD_ROWS[index // 100 % len(BAD_ROWS)])
                continue
            handle.write(
                b"partner.%d@coop%d.example.org,Partner %d,%s,Cooperative %d\n"
                % (index, index % 997, index, rng.choice(LANGUAGES), index % 5000)
            )


def run_import(csv_path: Path, workdir: Path) -> tuple[float, float, dict[str, object]]:
    database = workdir / "bench.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    env = {**os.environ, "COOPMAIL_DATABASE_URL": f"sqlite:///{database}"}
    coopmail = [sys.executable, "-m", "coopmail"]
    subprocess.run([*coopmail, "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run(
        [*coopmail, "lists", "create", "bench"], env=env, check=True, capture_output=True
    )
    started = time.perf_counter()
    child = subprocess.Popen(
        [*coopmail, "subscribers", "import", str(csv_path), "--list", "bench", "--json"],
        env=env,
        stdout=subprocess.PIPE,
    )
    output, _ = child.communicate()
    elapsed = time.perf_counter() - started
    if child.returncode != 0:
        raise SystemExit(f"import failed with exit code {child.returncode}")
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return elapsed, peak_mb, json.loads(output)


def naive_rows_per_s(csv_path: Path, workdir: Path, sample: int) -> float:
    """One validate_email and one ORM object per row, committed in one transaction."""
    from email_validator import EmailNotValidError, validate_email
    from sqlalchemy.orm import Session

    from coopmail.db import make_engine, upgrade
    from subscribers.models import MailingList, Subscriber, Subscription, SubscriptionStatus

    database = workdir / "naive.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{database}")
    upgrade(engine)
    lines = csv_path.read_bytes().splitlines()[1 : sample + 1]
    started = time.perf_counter()
    with Session(engine) as session:
        mailing_list = MailingList(name="bench", title="bench")
        session.add(mailing_list)
        session.flush()
        seen: set[str] = set()
        for line in lines:
            email, name, *_ = line.decode("utf-8", "replace").split(",")
            try:
                normalized = validate_email(email, check_deliverability=False).normalized.lower()
            except EmailNotValidError:
                continue
            if normalized in seen:
                continue
            seen.add(normalized)
            subscriber = Subscriber(email=normalized, name=name[:200], attributes={})
            session.add(subscriber)
            session.flush()
            session.add(
                Subscription(
                    subscriber_id=subscriber.id,
                    list_id=mailing_list.id,
                    status=SubscriptionStatus.CONFIRMED,
                )
            )
        session.commit()
    engine.dispose()
    return sample / (time.perf_counter() - started)


def floor_rows_per_s(csv_path: Path, workdir: Path, sample: int) -> float:
    """Bare sqlite3 executemany of (email, name): what storage alone costs."""
    database = workdir / "floor.db"
    database.unlink(missing_ok=True)
    lines = csv_path.read_bytes().splitlines()[1 : sample + 1]
    started = time.perf_counter()
    connection = sqlite3.connect(database)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE s (id INTEGER PRIMARY KEY, email TEXT UNIQUE, name TEXT)")
    rows = (line.split(b",")[:2] for line in lines)
    connection.executemany(
        "INSERT OR IGNORE INTO s (email, name) VALUES (?, ?)",
        (
            (email.decode("utf-8", "replace"), name.decode("utf-8", "replace"))
            for email, name in rows
        ),
    )
    connection.commit()
    connection.close()
    return sample / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=20_000, help="rows for the naive run")
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench" / "out")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    csv_path = args.workdir / f"subscribers-{args.rows}.csv"
    if not csv_path.exists():
        print(f"generating {csv_path} ...", flush=True)
        generate(csv_path, args.rows)

    elapsed, peak_mb, summary = run_import(csv_path, args.workdir)
    rate = args.rows / elapsed
    naive = naive_rows_per_s(csv_path, args.workdir, args.sample)
    floor = floor_rows_per_s(csv_path, args.workdir, min(args.rows, 200_000))

    print(f"rows                 {args.rows:>12,}  ({csv_path.stat().st_size / 1e6:.0f} MB)")
    print(f"summary              {json.dumps(summary)}")
    print(f"coopmail import      {rate:>12,.0f} rows/s  ({elapsed:.1f} s)")
    print(f"peak RSS             {peak_mb:>12,.0f} MB")
    print(f"naive ORM import     {naive:>12,.0f} rows/s  (sample of {args.sample:,})")
    print(f"sqlite3 floor        {floor:>12,.0f} rows/s  (bare inserts, no validation)")
    print(f"ratio vs naive       {rate / naive:>12.1f} x")
    print(f"share of the floor   {rate / floor:>12.2f}")
    speed = "met" if rate >= GOAL_ROWS_PER_S else "NOT met"
    memory = "met" if peak_mb <= GOAL_RSS_MB else "NOT met"
    print(f"goal                 >= {GOAL_ROWS_PER_S:,} rows/s: {speed}")
    print(f"goal                 <= {GOAL_RSS_MB} MB peak RSS: {memory}")


if __name__ == "__main__":
    main()
