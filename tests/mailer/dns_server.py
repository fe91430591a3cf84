"""A tiny authoritative DNS server on 127.0.0.1 answering TXT queries from a dict.

So that DKIM verifiers we did not write (Perl's Mail::DKIM, OpenDKIM through Unbound) look
the public key up the way they would on the Internet, over UDP, with the answer given by
the test: no resolver of the machine, no network.

    with TxtServer({"sel._domainkey.example.org": "v=DKIM1; k=rsa; p=..."}) as dns:
        dns.port  # UDP, on 127.0.0.1
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Mapping
from types import TracebackType
from typing import Self

HOST = "127.0.0.1"
_TXT, _IN = 16, 1
_NXDOMAIN = 3


class TxtServer:
    """Answers TXT for the names it was given, NXDOMAIN for any other; one thread."""

    def __init__(self, records: Mapping[str, str]) -> None:
        self._records = {name.lower().rstrip("."): value for name, value in records.items()}
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind((HOST, 0))
        self._socket.settimeout(0.2)
        self.port: int = self._socket.getsockname()[1]
        self.queries: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="txt-dns", daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        self._socket.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                query, client = self._socket.recvfrom(4096)
            except TimeoutError:
                continue
            answer = self._answer(query)
            if answer is not None:
                self._socket.sendto(answer, client)

    def _answer(self, query: bytes) -> bytes | None:
        if len(query) < 12:
            return None
        ident, flags, questions = struct.unpack("!HHH", query[:6])
        if questions != 1:
            return None
        labels, position = [], 12
        while position < len(query) and query[position]:
            length = query[position]
            labels.append(query[position + 1 : position + 1 + length].decode("ascii", "replace"))
            position += 1 + length
        end = position + 5  # the root label, then QTYPE and QCLASS
        if end > len(query):
            return None
        qtype, qclass = struct.unpack("!HH", query[position + 1 : end])
        name = ".".join(labels).lower()
        self.queries.append(name)
        question = query[12:end]
        value = self._records.get(name)
        recursion_desired = flags & 0x0100
        rcode = _NXDOMAIN if value is None else 0
        answers = b""
        if value is not None and qtype == _TXT and qclass == _IN:
            data = value.encode("ascii")
            strings = b"".join(
                bytes([len(data[i : i + 255])]) + data[i : i + 255]
                for i in range(0, len(data), 255)
            )
            answers = struct.pack("!HHHIH", 0xC00C, _TXT, _IN, 60, len(strings)) + strings
        header = struct.pack(
            "!HHHHHH",
            ident,
            0x8000 | 0x0400 | recursion_desired | 0x0080 | rcode,  # QR, AA, RD as asked, RA
            1,
            1 if answers else 0,
            0,
            0,
        )
        return header + question + answers
