"""Messages per second into Postfix's smtp-sink: SmtpConnection, smtplib and smtp-source.

N personalised 20 KB messages (multipart/alternative, quoted-printable, built with
mailer.mime beforehand) go to `smtp-sink` on 127.0.0.1, which advertises PIPELINING and
throws everything away. In the same run, on the same sink:

  SmtpConnection x C   mailer.smtp on C concurrent connections (1, 2, 4, 8), one asyncio loop
  smtplib              smtplib.SMTP.sendmail of the same bytes on one connection
  smtp-source -s C     Postfix's C load generator (no pipelining) with -d (connections kept
                       open) and a 20 KB payload: the harness ceiling

Each figure is the median of --repeat runs (the range follows: on a shared 2-core
machine runs differ by tens of percent). --dkim also prints the cost of signing one
of these messages (RSA-2048 and Ed25519, mailer.dkim, and dkimpy alone for reference).
The script starts smtp-sink on a free port and kills it when done.

    apt-get install postfix   # ships /usr/sbin/smtp-sink and smtp-source
    .venv/bin/python bench/smtp_client.py [--messages 10000] [--repeat 3] [--dkim]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import os
import shutil
import smtplib
import socket
import statistics
import subprocess
import time
from collections.abc import Callable, Iterator

from mailer.headers import encode_header, format_address, format_date, make_message_id
from mailer.mime import assemble_encoded, encode_body, make_boundary
from mailer.smtp import Outcome, SmtpConnection, SmtpSettings

SIZE = 20_480
SENDER = "bounces@example.org"
CONCURRENCY = (1, 2, 4, 8)
PARAGRAPH = (
    "Les membres se sont réunis pour débattre des priorités de l'année : accès au crédit, "
    "formation des élus, et coopération entre régions. Une délégation a présenté les "
    "résultats d'une étude menée auprès de quarante coopératives. "
)


def messages(count: int) -> list[bytes]:
    """`count` distinct messages of about 20 KB: the bodies encoded once, headers per person."""
    text = encode_body(PARAGRAPH * 30)
    html = encode_body(
        "".join(
            f'<tr><td style="padding:24px 32px;font-family:Helvetica,Arial,sans-serif">'
            f"<h2>Article {index}</h2><p>{PARAGRAPH * 3}</p></td></tr>\n"
            for index in range(12)
        )
    )
    html = html[: max(0, SIZE - len(text) - 1200)]
    built = []
    for index in range(count):
        recipient = f"member{index}@example.org"
        headers = [
            ("From", format_address(name="Cooperatives Unit", address="unit@example.org")),
            ("To", format_address(name=f"Member {index}", address=recipient)),
            ("Subject", encode_header(name="Subject", value="Nouvelles de mars")),
            ("Date", format_date()),
            ("Message-ID", make_message_id(domain="example.org")),
            ("List-Unsubscribe", f"<https://example.org/u/{index}>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ]
        built.append(
            assemble_encoded(headers=headers, text=text, html=html, boundary=make_boundary())
        )
    return built


def recipients(count: int) -> list[str]:
    return [f"member{index}@example.org" for index in range(count)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def smtp_sink(port: int) -> Iterator[None]:
    """smtp-sink on 127.0.0.1:port for the duration, killed afterwards whatever happens."""
    binary = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"
    if not os.path.exists(binary):
        raise SystemExit("smtp-sink not found: apt-get install postfix (Debian)")
    user = ["-u", "nobody"] if os.geteuid() == 0 else []
    sink = subprocess.Popen(
        [binary, *user, f"127.0.0.1:{port}", "1000"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if sink.poll() is not None or time.monotonic() > deadline:
                    error = sink.stderr.read().decode() if sink.stderr else ""
                    raise SystemExit(f"smtp-sink did not start: {error.strip()}") from None
                time.sleep(0.05)
        yield
    finally:
        sink.terminate()
        try:
            sink.wait(5)
        except subprocess.TimeoutExpired:
            sink.kill()
            sink.wait()


def ours(port: int, data: list[bytes], concurrency: int) -> float:
    """Seconds to send every message with `concurrency` SmtpConnections in one loop."""
    settings = SmtpSettings(host="127.0.0.1", port=port)
    addresses = recipients(len(data))

    async def connection(start: int) -> int:
        sent = 0
        async with SmtpConnection(settings=settings) as smtp:
            for index in range(start, len(data), concurrency):
                result = await smtp.send(
                    sender=SENDER, recipient=addresses[index], message=data[index]
                )
                sent += result.outcome is Outcome.SENT
        return sent

    async def everything() -> float:
        started = time.perf_counter()
        sent = await asyncio.gather(*(connection(start) for start in range(concurrency)))
        elapsed = time.perf_counter() - started
        if sum(sent) != len(data):
            raise SystemExit(f"only {sum(sent)} of {len(data)} messages were sent")
        return elapsed

    return asyncio.run(everything())


def with_smtplib(port: int, data: list[bytes]) -> float:
    addresses = recipients(len(data))
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for address, message in zip(addresses, data, strict=True):
            smtp.sendmail(SENDER, [address], message)
    return time.perf_counter() - started


def smtp_source(port: int, count: int, sessions: int) -> float:
    binary = shutil.which("smtp-source") or "/usr/sbin/smtp-source"
    started = time.perf_counter()
    subprocess.run(
        [binary, "-d", "-s", str(sessions), "-l", str(SIZE), "-m", str(count),
         "-f", SENDER, "-t", "member@example.org", f"127.0.0.1:{port}"],
        check=True,
        stdout=subprocess.DEVNULL,
        timeout=600,
    )  # fmt: skip
    return time.perf_counter() - started


def rates_of(count: int, repeat: int, run: Callable[[], float]) -> list[float]:
    return sorted(count / run() for _ in range(repeat))


def dkim_costs(message: bytes, rounds: int = 200) -> None:
    import dkim  # type: ignore[import-untyped]
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    from mailer.dkim import DkimSigner

    def per_message(sign: Callable[[], object], count: int) -> float:
        sign()
        started = time.perf_counter()
        for _ in range(count):
            sign()
        return (time.perf_counter() - started) / count * 1e6

    rsa_pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    ed = ed25519.Ed25519PrivateKey.generate()
    ed_pem = ed.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    print(f"\nDKIM signing one {len(message):,}-byte message (µs per message)")
    for name, key in (("RSA-2048", rsa_pem), ("Ed25519", ed_pem)):
        sign = DkimSigner(selector="bench", domain="example.org", private_key=key).sign
        cost = per_message(functools.partial(sign, message), rounds)
        print(f"  mailer.dkim  {name:9} {cost:8.0f}")
    headers = [b"from", b"to", b"subject", b"date", b"message-id", b"mime-version",
               b"content-type", b"list-unsubscribe", b"list-unsubscribe-post"]  # fmt: skip

    def dkimpy() -> object:
        relaxed = (b"relaxed", b"relaxed")
        return dkim.sign(
            message,
            b"bench",
            b"example.org",
            rsa_pem,
            canonicalize=relaxed,
            include_headers=headers,
        )

    print(f"  dkimpy alone RSA-2048 {per_message(dkimpy, max(rounds // 10, 5)):8.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dkim", action="store_true", help="also time DKIM signing")
    options = parser.parse_args()
    count = options.messages

    print(f"building {count:,} messages ...", flush=True)
    data = messages(count)
    print(f"{count:,} messages of {len(data[0]):,} bytes; median of {options.repeat} runs\n")

    port = free_port()
    rates: dict[str, float] = {}

    def measure(name: str, run: Callable[[], float]) -> None:
        each = rates_of(count, options.repeat, run)
        rates[name] = statistics.median(each)
        spread = f"({each[0]:,.0f} to {each[-1]:,.0f})" if len(each) > 1 else ""
        print(f"  {name:22} {rates[name]:9,.0f} msg/s  {spread}", flush=True)

    with smtp_sink(port):
        for concurrency in CONCURRENCY:
            measure(
                f"SmtpConnection x {concurrency}", functools.partial(ours, port, data, concurrency)
            )
        measure("smtplib x 1", lambda: with_smtplib(port, data))
        for sessions in (1, 8):
            measure(
                f"smtp-source -s {sessions}", functools.partial(smtp_source, port, count, sessions)
            )

    print("\nratios")
    for mine, other in (
        ("SmtpConnection x 1", "smtplib x 1"),
        ("SmtpConnection x 1", "smtp-source -s 1"),
        ("SmtpConnection x 8", "smtp-source -s 8"),
        *((f"SmtpConnection x {c}", "SmtpConnection x 1") for c in CONCURRENCY[1:]),
    ):
        print(f"  {mine} / {other:20} {rates[mine] / rates[other]:5.2f}")
    if options.dkim:
        dkim_costs(data[0])


if __name__ == "__main__":
    main()
