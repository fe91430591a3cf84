"""DKIM signatures (RFC 6376, RFC 8463), relaxed/relaxed, over the headers a newsletter needs.

dkimpy parses the header block, canonicalizes and hashes the signed headers, and verifies
in the tests; the private-key operation goes to OpenSSL through `cryptography`, because
dkimpy's pure-Python RSA costs about 7 ms per RSA-2048 signature against 0.25 ms, which
would make signing, not SMTP, the limit on sending speed. Relaxed body canonicalization
is skipped when it would change nothing (no tab, no double space, no trailing blank),
which is what quoted-printable bodies from mailer.mime look like.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time

import dkim  # type: ignore[import-untyped]
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, utils
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from dkim.canonicalization import CanonicalizationPolicy  # type: ignore[import-untyped]

from mailer.errors import InvalidDkimKey, InvalidHeader

# Signed when present, in this order; each once (the last occurrence, as verifiers pick).
SIGNED_HEADERS = (
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "MIME-Version",
    "Content-Type",
    "Reply-To",
    "List-Id",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
)
_SIGNED = tuple(name.lower().encode("ascii") for name in SIGNED_HEADERS)
_RELAXED = CanonicalizationPolicy.from_c_value(b"relaxed/relaxed")
_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?"
_LABELS = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_B64_LINE = 72
_H_LINE = 66  # room for the names after " h=" (or " ") on a line
_MIN_RSA_BITS = 1024


class DkimSigner:
    """Signs messages for one domain and selector with one key, loaded once."""

    def __init__(self, *, selector: str, domain: str, private_key: bytes) -> None:
        for what, value in (("selector", selector), ("domain", domain)):
            if _LABELS.fullmatch(value) is None:
                raise InvalidHeader(
                    f"the DKIM {what} {value!r} must be ASCII DNS labels (IDNA form for others)"
                )
        self._key = _load(private_key)
        algorithm = "rsa-sha256" if isinstance(self._key, RSAPrivateKey) else "ed25519-sha256"
        self.selector = selector
        self.domain = domain
        self._tags = f" v=1; a={algorithm}; c=relaxed/relaxed;\r\n d={domain}; s={selector};"

    def sign(self, message: bytes) -> bytes:
        """The message with a DKIM-Signature header prepended; CRLF line ends expected."""
        split = message.find(b"\r\n\r\n")
        if split < 0:
            block, body = message, b""
        else:
            block, body = message[: split + 2], message[split + 4 :]
        headers = dkim.rfc822_parse(block + b"\r\n")[0]
        present = {name.lower() for name, _ in headers}
        if b"from" not in present:
            raise InvalidHeader("the message has no From header, which DKIM must sign")
        signed = tuple(name for name in _SIGNED if name in present)
        body_hash = base64.b64encode(hashlib.sha256(_relaxed_body(body)).digest())
        value = b"".join(
            (
                self._tags.encode("ascii"),
                f" t={int(time.time())};\r\n h=".encode("ascii"),
                _fold_names(signed),
                b";\r\n bh=",
                body_hash,
                b";\r\n b=",
            )
        )
        hasher = hashlib.sha256()
        dkim.hash_headers(
            hasher,
            _RELAXED,
            _RELAXED.canonicalize_headers(headers),
            signed,
            (b"DKIM-Signature", value),
            None,
        )
        signature = base64.b64encode(self._signature(hasher.digest()))
        folded = b"\r\n ".join(
            signature[start : start + _B64_LINE] for start in range(0, len(signature), _B64_LINE)
        )
        return b"".join((b"DKIM-Signature:", value, folded, b"\r\n", message))

    def dns_record(self) -> str:
        """The TXT record to publish at `<selector>._domainkey.<domain>`."""
        public = self._key.public_key()
        if isinstance(public, Ed25519PublicKey):
            raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            return f"v=DKIM1; k=ed25519; p={base64.b64encode(raw).decode('ascii')}"
        der = public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return f"v=DKIM1; k=rsa; p={base64.b64encode(der).decode('ascii')}"

    def _signature(self, digest: bytes) -> bytes:
        if isinstance(self._key, RSAPrivateKey):
            return self._key.sign(digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
        return self._key.sign(digest)  # RFC 8463: Ed25519 over the SHA-256 of the headers


def _load(private_key: bytes) -> RSAPrivateKey | Ed25519PrivateKey:
    """The key from PEM (PKCS#1 or PKCS#8 RSA, PKCS#8 Ed25519), or dknewkey's Ed25519 seed."""
    text = private_key.strip()
    if not text.startswith(b"-----BEGIN"):
        try:
            seed = base64.b64decode(text, validate=True)
        except ValueError:
            seed = b""
        if len(seed) != 32:
            raise InvalidDkimKey(
                "the DKIM key is not a PEM private key (-----BEGIN PRIVATE KEY-----)"
            )
        return Ed25519PrivateKey.from_private_bytes(seed)
    try:
        key = serialization.load_pem_private_key(text, password=None)
    except TypeError:
        raise InvalidDkimKey(
            "the DKIM key is encrypted: store it unencrypted, readable only by coopmail"
        ) from None
    except (ValueError, UnsupportedAlgorithm):
        raise InvalidDkimKey("the DKIM key is not a readable PEM RSA or Ed25519 key") from None
    if isinstance(key, RSAPrivateKey):
        if key.key_size < _MIN_RSA_BITS:
            raise InvalidDkimKey(
                f"the DKIM key has {key.key_size} bits: receivers ignore RSA keys under 1024 "
                "(use 2048)"
            )
        return key
    if isinstance(key, Ed25519PrivateKey):
        return key
    raise InvalidDkimKey(f"the DKIM key is {type(key).__name__}: DKIM signs with RSA or Ed25519")


def _relaxed_body(body: bytes) -> bytes:
    """The relaxed canonical body; dkimpy's regexes only where they could change something."""
    if b"\t" in body or b"  " in body or b" \r\n" in body:
        canonical: bytes = _RELAXED.canonicalize_body(body)
        return canonical
    end = len(body)
    while body.endswith(b"\r\n", 0, end):
        end -= 2
    return body[:end] + b"\r\n" if end else b""


def _fold_names(names: tuple[bytes, ...]) -> bytes:
    """h= names joined with ":", the line folded before it would pass about 78 characters."""
    lines: list[list[bytes]] = [[]]
    width = 0
    for name in names:
        if lines[-1] and width + len(name) > _H_LINE:
            lines.append([])
            width = 0
        lines[-1].append(name)
        width += len(name) + 1
    return b":\r\n ".join(b":".join(line) for line in lines)
