"""Fold header values into lines, writing what cannot stay literal as RFC 2047 encoded words.

Lines SHOULD stay within 78 characters and MUST stay within 998 (RFC 5322); an encoded
word is at most 75 characters (RFC 2047). Subjects and display names both reduce to the
same problem: a sequence of words, each written literally or encoded, separated by
whitespace where a line may be folded (CRLF inserted before the whitespace).

Whitespace between two adjacent encoded words is not part of the text (RFC 2047, 6.2), so
consecutive words to encode form one run whose internal spaces travel inside the encoded
text; the whitespace between a literal word and an encoded run stays literal.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence

LINE = 78
"""Where lines are folded when a fold point allows it."""

HARD_LINE = 998
"""No line may be longer, whatever the value."""

LONGEST_LITERAL = 900
"""Longer unbroken words are encoded, so that even a folded line stays within HARD_LINE."""

LONGEST_BLANK = 60
"""Longer runs of literal whitespace go inside encoded words, for the same reason."""

_Q_PREFIX = "=?utf-8?q?"
_B_PREFIX = "=?utf-8?b?"
_SUFFIX = "?="
_OVERHEAD = len(_Q_PREFIX) + len(_SUFFIX)
_LONGEST_PAYLOAD = 75 - _OVERHEAD
_SHORTEST_WORTHWHILE = 16  # fold rather than split off an encoded word with less room

# RFC 2047 5(3): the only characters that may stay literal in Q encoding in a phrase, which
# is the strictest context, so one table serves subjects and display names alike.
_Q_LITERAL = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/")
_Q_TABLE: tuple[str, ...] = tuple(
    chr(byte) if byte in _Q_LITERAL else "_" if byte == 0x20 else f"={byte:02X}"
    for byte in range(256)
)
_Q_ASCII_COST: tuple[int, ...] = tuple(len(_Q_TABLE[byte]) for byte in range(128))

Word = tuple[str, str, bool]
"""(whitespace before the word, the word, whether it must be encoded)."""


def words_of(*, words: Sequence[str], blanks: Sequence[str], literal: Sequence[bool]) -> list[Word]:
    """Group words into literal words and encoded runs, each with the whitespace before it.

    `blanks[i]` separates `words[i]` from `words[i + 1]`. An encoded run takes in the
    whitespace around it except one character on each side that touches a literal word.
    """
    count = len(words)
    separators = list(blanks)
    result: list[Word] = []
    index = 0
    while index < count:
        before = separators[index - 1] if index else ""
        if literal[index]:
            result.append((before, words[index], False))
            index += 1
            continue
        end = index
        while end + 1 < count and not literal[end + 1]:
            end += 1
        pieces = [before[1:], words[index]]
        for inner in range(index, end):
            pieces += (separators[inner], words[inner + 1])
        if end + 1 < count:
            pieces.append(separators[end][:-1])
            separators[end] = separators[end][-1:]
        result.append((before[:1], "".join(pieces), True))
        index = end + 1
    return result


def fold(words: Sequence[Word], *, start: int) -> str:
    """The words as one header value, folded with CRLF + whitespace.

    `start` is how much of the first line is already taken ("Subject: "). The first word
    always goes on the first line: a value must not begin with a fold.
    """
    out: list[str] = []
    column = start
    for index, (blank, text, encode) in enumerate(words):
        if not encode:
            if index and column + len(blank) + len(text) > LINE:
                out.append("\r\n")
                column = 0
            out += (blank, text)
            column += len(blank) + len(text)
            continue
        position = 0
        while position < len(text):
            gap = blank if position == 0 else " "
            room = LINE - column - len(gap) - _OVERHEAD
            encoded, end = _encoded_word(text, position, room)
            cramped = end == position or (end < len(text) and room < _SHORTEST_WORTHWHILE)
            if cramped and gap:
                out.append("\r\n")
                column = 0
                encoded, end = _encoded_word(text, position, LINE - len(gap) - _OVERHEAD)
            elif end == position:  # not even one character fits on a crowded first line
                encoded, end = _encoded_word(text, position, _LONGEST_PAYLOAD)
            out += (gap, encoded)
            column += len(gap) + len(encoded)
            position = end
    return "".join(out)


def _encoded_word(text: str, start: int, room: int) -> tuple[str, int]:
    """The encoded word covering the most of text[start:] in `room` characters of payload.

    Q and B are measured side by side; the one that covers more characters wins, and on a
    tie the shorter one, then Q, which people can still read. Words never split a character.
    """
    payload = min(room, _LONGEST_PAYLOAD)
    b_bytes = payload // 4 * 3
    q_used = b_used = 0
    q_end = b_end = start
    q_open = b_open = payload > 0
    index = start
    length = len(text)
    while index < length and (q_open or b_open):
        code = ord(text[index])
        size = 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4
        if q_open:
            cost = _Q_ASCII_COST[code] if code < 0x80 else 3 * size
            if q_used + cost <= payload:
                q_used += cost
                q_end = index + 1
            else:
                q_open = False
        if b_open:
            if b_used + size <= b_bytes:
                b_used += size
                b_end = index + 1
            else:
                b_open = False
        index += 1
    if q_end == start and b_end == start:
        return "", start
    use_q = q_end > b_end or (q_end == b_end and q_used <= -(-b_used // 3) * 4)
    if use_q:
        data = text[start:q_end].encode("utf-8")
        return f"{_Q_PREFIX}{''.join([_Q_TABLE[byte] for byte in data])}{_SUFFIX}", q_end
    data = text[start:b_end].encode("utf-8")
    return f"{_B_PREFIX}{base64.b64encode(data).decode('ascii')}{_SUFFIX}", b_end
