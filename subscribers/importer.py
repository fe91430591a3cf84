"""Stream a CSV of people into a list: validated, de-duplicated, idempotent, batch-atomic.

Each batch is one transaction, so an interrupted import leaves whole batches behind and a
re-run recognises them (they count as unchanged). Memory stays flat whatever the file size.
"""

from __future__ import annotations

import csv
import functools
import io
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Table, text
from sqlalchemy.orm import Session

from subscribers.addresses import (
    address_hash,
    has_unsafe_characters,
    normalise_address,
)
from subscribers.base import utcnow
from subscribers.bulk import BulkSql
from subscribers.errors import ImportFileError, InvalidAddress, InvalidField
from subscribers.languages import check_language
from subscribers.models import (
    NAME_MAX,
    ConsentAction,
    ConsentRecord,
    ConsentSource,
    MailingList,
    Subscriber,
    Subscription,
    SubscriptionStatus,
)
from subscribers.people import ATTRIBUTE_VALUE_MAX
from subscribers.spreadsheet import SafeWriter, read_cells

BATCH_SIZE = 2000
FIELD_SIZE_LIMIT = 64 * 1024
_SUBSCRIBERS: Table = Subscriber.__table__  # type: ignore[assignment]
_SUBSCRIPTIONS: Table = Subscription.__table__  # type: ignore[assignment]
_CONSENT_RECORDS: Table = ConsentRecord.__table__  # type: ignore[assignment]
_KNOWN_COLUMNS = ("email", "name", "language")
# Written by `subscribers export` (subscription state) and by the rejects file (line,
# reason): ignored, so both files can be imported again as they are.
_IGNORED_COLUMNS = ("status", "subscribed_at", "confirmed_at", "unsubscribed_at", "line", "reason")


@dataclass(kw_only=True)
class ImportSummary:
    rows: int = 0
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    suppressed: int = 0
    rejected: int = 0
    rejects_file: str | None = None
    interrupted: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class _Row:
    line: int
    raw: list[str]
    email: str
    name: str | None
    language: str | None
    attributes: dict[str, str]


@dataclass(kw_only=True)
class _Header:
    names: list[str]
    email: int
    name: int | None
    language: int | None
    attributes: list[tuple[int, str]] = field(default_factory=list)


ProgressCallback = Callable[[int], None]


def import_csv(
    session: Session,
    *,
    source: IO[bytes],
    mailing_list: MailingList,
    rejects_path: Path,
    wording: str,
    status: SubscriptionStatus = SubscriptionStatus.CONFIRMED,
    on_batch: ProgressCallback | None = None,
    batch_size: int = BATCH_SIZE,
    columns: Mapping[str, str | None] | None = None,
) -> ImportSummary:
    """Import ``source`` into ``mailing_list``; commits once per batch.

    ``on_batch`` receives the number of data rows read so far after each commit.
    ``columns`` maps a column of the file's header to what it holds (``email``, ``name``,
    ``language`` or an attribute's name), or to None to leave it out; a column it does not
    name is read by its own name, as without a mapping.
    Suppressed addresses and people who unsubscribed from the list are never (re)subscribed.
    """
    csv.field_size_limit(FIELD_SIZE_LIMIT)
    decoded = io.TextIOWrapper(source, encoding="utf-8-sig", errors="surrogateescape", newline="")
    reader = csv.reader(decoded, strict=False)
    header = _read_header(reader, columns or {})
    rejects = _RejectsFile(rejects_path, header.names)
    writer = _BatchWriter(
        session=session, mailing_list=mailing_list, status=status, wording=wording
    )
    summary = ImportSummary()
    try:
        for batch in _parsed_batches(reader, header, rejects, batch_size):
            writer.write(batch.rows, summary, rejects)
            summary.rows += batch.read
            summary.rejected += batch.rejected
            if on_batch:
                on_batch(summary.rows)
    except KeyboardInterrupt:
        session.rollback()
        summary.interrupted = True
    finally:
        summary.rejects_file = rejects.close()
    if summary.imported and session.get_bind().dialect.name == "postgresql":
        # Thousands of new rows: let the planner see them before the next send plans a claim.
        session.execute(text("ANALYZE subscribers, subscriptions"))
        session.commit()
    return summary


@dataclass(slots=True)
class _Batch:
    rows: list[_Row]
    read: int
    rejected: int


def _parsed_batches(
    reader: Any, header: _Header, rejects: _RejectsFile, batch_size: int
) -> Iterator[_Batch]:
    batch = _Batch([], 0, 0)
    for line, raw, error in csv_records(reader):
        batch.read += 1
        fields = read_cells(raw)  # what our exports neutralised for spreadsheets, as it was
        row = _parse(line, fields, header) if error is None else error
        if isinstance(row, str):
            rejects.write(line, row, fields)
            batch.rejected += 1
            continue
        batch.rows.append(row)
        if len(batch.rows) >= batch_size:
            yield batch
            batch = _Batch([], 0, 0)
    if batch.read:
        yield batch


@dataclass(frozen=True, kw_only=True)
class Preview:
    """A file's columns and first rows, to map its columns before importing it."""

    columns: list[str]
    rows: list[list[str]]


def preview_csv(source: IO[bytes], *, rows: int = 5) -> Preview:
    """The header and the first ``rows`` records of ``source``, read as the import reads
    them; ImportFileError for a header that cannot be read. The header needs no email
    column yet: the mapping may name one."""
    csv.field_size_limit(FIELD_SIZE_LIMIT)
    decoded = io.TextIOWrapper(source, encoding="utf-8-sig", errors="surrogateescape", newline="")
    reader = csv.reader(decoded, strict=False)
    names = _header_names(reader)
    first: list[list[str]] = []
    for _line, fields, error in csv_records(reader):
        if len(first) >= rows:
            break
        if error is None:
            first.append(read_cells(fields))
    return Preview(columns=names, rows=first)


def _header_names(reader: Any) -> list[str]:
    """The header row's column names, checked: present, readable, named, each once."""
    try:
        names = next(reader)
    except StopIteration:
        raise ImportFileError(
            "the file is empty; it needs a header row with an email column"
        ) from None
    except csv.Error as error:
        raise ImportFileError(f"line 1: the header row cannot be read ({error})") from None
    names = [name.strip() for name in names]
    if any(has_unsafe_characters(name) for name in names):
        raise ImportFileError(
            "line 1: the header row contains control characters or bytes that are not UTF-8"
        )
    lowered = [name.lower() for name in names]
    for index, name in enumerate(lowered):
        if not name:
            raise ImportFileError(f"line 1: column {index + 1} of the header row has no name")
        if lowered.count(name) > 1:
            raise ImportFileError(f"line 1: the column {names[index]!r} appears more than once")
    return names


def _read_header(reader: Any, columns: Mapping[str, str | None]) -> _Header:
    names = _header_names(reader)
    # What each column holds: its mapped name, its own name, or None when left out.
    meaning = [columns.get(name, name) or None for name in names]
    lowered = [name.strip().lower() if name is not None else None for name in meaning]
    for name in set(_KNOWN_COLUMNS) & set(lowered):
        if lowered.count(name) > 1:
            raise ImportFileError(f"more than one column is mapped to {name!r}")
    if "email" not in lowered:
        raise ImportFileError(
            "line 1: the header row has no 'email' column (expected columns: email, name, "
            "language; other columns become attributes)"
        )
    return _Header(
        names=names,
        email=lowered.index("email"),
        name=lowered.index("name") if "name" in lowered else None,
        language=lowered.index("language") if "language" in lowered else None,
        attributes=[
            (i, str(meaning[i]).strip())
            for i, n in enumerate(lowered)
            if n is not None and n not in _KNOWN_COLUMNS and n not in _IGNORED_COLUMNS
        ],
    )


def csv_records(reader: Any) -> Iterator[tuple[int, list[str], str | None]]:
    """(first line of the record, fields, parse error) for every record that is not blank.

    Line numbers are physical lines, so a quoted field spanning lines is reported where its
    record starts; a malformed record is reported and reading goes on.
    """
    previous_end = reader.line_num
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield previous_end + 1, [], f"the row cannot be read as CSV ({error})"
            previous_end = reader.line_num
            continue
        start, previous_end = previous_end + 1, reader.line_num
        if any(value.strip() for value in fields):
            yield start, fields, None


def _parse(line: int, fields: list[str], header: _Header) -> _Row | str:
    """A valid row, or the reason it is rejected. The hot path of an import: one regex
    and one length check per row, field by field only to explain a rejection."""
    if len(fields) != len(header.names):
        return f"expected {len(header.names)} fields as in the header, found {len(fields)}"
    if has_unsafe_characters(",".join(fields)) or max(map(len, fields)) > ATTRIBUTE_VALUE_MAX:
        return _explain_bad_field(fields, header)
    try:
        email = normalise_address(fields[header.email])
        name = fields[header.name].strip() if header.name is not None else None
        if name is not None and len(name) > NAME_MAX:
            raise InvalidField(f"name is longer than {NAME_MAX} characters")
        language = _language(fields[header.language]) if header.language is not None else None
    except InvalidAddress as error:
        return f"email: {error}"
    except InvalidField as error:
        return str(error)
    attributes = {
        key: value for index, key in header.attributes if (value := fields[index].strip())
    }
    return _Row(line, fields, email, name or None, language, attributes)


def _explain_bad_field(fields: list[str], header: _Header) -> str:
    for index, value in enumerate(fields):
        if has_unsafe_characters(value):
            if any("\udc80" <= char <= "\udcff" for char in value):
                return f"{header.names[index]}: contains bytes that are not valid UTF-8"
            return f"{header.names[index]}: contains a line break, NUL or control character"
        if len(value) > ATTRIBUTE_VALUE_MAX:
            return f"{header.names[index]}: longer than {ATTRIBUTE_VALUE_MAX} characters"
    raise AssertionError("called only for a row with a bad field")


# A file holds few distinct language values; the cache spares re-checking each row's.
_language = functools.lru_cache(maxsize=256)(check_language)


class _RejectsFile:
    """Rejected rows with line numbers and reasons, written only if there are any."""

    def __init__(self, path: Path, header: list[str]) -> None:
        self._path = path
        self._header = header
        self._file: IO[str] | None = None
        self._writer: SafeWriter | None = None

    def write(self, line: int, reason: str, fields: list[str]) -> None:
        if self._writer is None:
            self._file = self._path.open(
                "w", encoding="utf-8", errors="surrogateescape", newline=""
            )
            self._writer = SafeWriter(self._file)
            self._writer.writerow(["line", "reason", *self._header])
        self._writer.writerow([line, reason, *fields])

    def close(self) -> str | None:
        if self._file is None:
            return None
        self._file.close()
        return str(self._path)


@dataclass(kw_only=True)
class _BatchWriter:
    session: Session
    mailing_list: MailingList
    status: SubscriptionStatus
    wording: str

    def write(self, batch: list[_Row], summary: ImportSummary, rejects: _RejectsFile) -> None:
        """Apply one batch in one transaction; counts reach ``summary`` only after commit."""
        counts = ImportSummary()
        latest: dict[str, _Row] = {}
        for row in batch:
            if row.email in latest:
                counts.duplicates += 1
            latest[row.email] = row  # the last occurrence in the file wins
        sql = BulkSql(self.session.connection())
        now = sql.time(utcnow())
        self._drop_suppressed(sql, latest, counts, rejects)
        existing = self._existing(sql, list(latest))

        new_people = [row for email, row in latest.items() if email not in existing]
        sql.insert(
            _SUBSCRIBERS,
            ("email", "name", "language", "attributes", "created_at", "updated_at"),
            (
                (row.email, row.name or "", row.language, sql.json(row.attributes), now, now)
                for row in new_people
            ),
            ignore_conflicts_on=("email",),
        )
        ids = {email: found[0] for email, found in existing.items()}
        ids.update(
            sql.select(
                "SELECT email, id FROM subscribers WHERE email {in_values}",
                [row.email for row in new_people],
            )
        )

        changed_people: list[tuple[Any, ...]] = []
        new_subscriptions: list[int] = []
        confirmations: list[tuple[int, int]] = []
        for email, row in latest.items():
            if email not in existing:
                new_subscriptions.append(ids[email])
                counts.imported += 1
                continue
            subscriber_id, name, language, attributes_json, subscription_id, status = existing[
                email
            ]
            if status == SubscriptionStatus.UNSUBSCRIBED:
                rejects.write(
                    row.line,
                    f"unsubscribed from {self.mailing_list.name}; only the person can resubscribe",
                    row.raw,
                )
                counts.suppressed += 1
                continue
            attributes = _json_object(attributes_json)
            merged = {**attributes, **row.attributes}
            person_changed = (
                (row.name is not None and row.name != name)
                or (row.language is not None and row.language != language)
                or merged != attributes
            )
            if person_changed:
                changed_people.append(
                    (
                        row.name if row.name is not None else name,
                        row.language if row.language is not None else language,
                        sql.json(merged),
                        now,
                        subscriber_id,
                    )
                )
            if subscription_id is None:
                new_subscriptions.append(subscriber_id)
                counts.imported += 1
            elif (
                status == SubscriptionStatus.UNCONFIRMED
                and self.status is SubscriptionStatus.CONFIRMED
            ):
                confirmations.append((subscription_id, subscriber_id))
                counts.updated += 1
            elif person_changed:
                counts.updated += 1
            else:
                counts.unchanged += 1

        sql.execute_many(
            "UPDATE subscribers SET name = ?, language = ?, attributes = ?, updated_at = ? "
            "WHERE id = ?",
            changed_people,
        )
        self._subscribe(sql, new_subscriptions, confirmations, now)
        self.session.commit()
        for name in ("imported", "updated", "unchanged", "duplicates", "suppressed"):
            setattr(summary, name, getattr(summary, name) + getattr(counts, name))

    def _drop_suppressed(
        self, sql: BulkSql, latest: dict[str, _Row], counts: ImportSummary, rejects: _RejectsFile
    ) -> None:
        by_hash = {address_hash(email): email for email in latest}
        found = sql.select(
            "SELECT email_hash, reason FROM suppressions WHERE email_hash {in_values}",
            list(by_hash),
        )
        for email_hash, reason in found:
            row = latest.pop(by_hash[email_hash])
            rejects.write(
                row.line, f"suppressed ({reason}); never re-subscribed by an import", row.raw
            )
            counts.suppressed += 1

    def _existing(self, sql: BulkSql, emails: list[str]) -> dict[str, tuple[Any, ...]]:
        """email -> (id, name, language, attributes, subscription id, subscription status)."""
        rows = sql.select(
            "SELECT s.email, s.id, s.name, s.language, s.attributes, sub.id, sub.status "
            "FROM subscribers s LEFT JOIN subscriptions sub "
            "ON sub.subscriber_id = s.id AND sub.list_id = {mark} "
            "WHERE s.email {in_values}",
            emails,
            first=(self.mailing_list.id,),
        )
        return {row[0]: row[1:] for row in rows}

    def _subscribe(
        self,
        sql: BulkSql,
        new: list[int],
        confirmations: list[tuple[int, int]],
        now: Any,
    ) -> None:
        list_id = self.mailing_list.id
        status = self.status.value
        confirmed_at = now if self.status is SubscriptionStatus.CONFIRMED else None
        sql.insert(
            _SUBSCRIPTIONS,
            ("subscriber_id", "list_id", "status", "created_at", "updated_at", "confirmed_at"),
            ((subscriber_id, list_id, status, now, now, confirmed_at) for subscriber_id in new),
            ignore_conflicts_on=("subscriber_id", "list_id"),
        )
        sql.execute_many(
            "UPDATE subscriptions SET status = ?, confirmed_at = ?, updated_at = ? WHERE id = ?",
            [(SubscriptionStatus.CONFIRMED.value, now, now, sub_id) for sub_id, _ in confirmations],
        )
        consent_columns = ("subscriber_id", "list_id", "action", "source", "wording", "created_at")
        source = ConsentSource.IMPORT.value
        sql.insert(
            _CONSENT_RECORDS,
            consent_columns,
            [
                (subscriber_id, list_id, ConsentAction.SUBSCRIBE.value, source, self.wording, now)
                for subscriber_id in new
            ]
            + [
                (subscriber_id, list_id, ConsentAction.CONFIRM.value, source, self.wording, now)
                for _, subscriber_id in confirmations
            ],
        )


def _json_object(value: Any) -> dict[str, Any]:
    """Attributes as read raw: a dict from PostgreSQL's JSONB, a string from SQLite."""
    if isinstance(value, dict):
        return value
    loaded = json.loads(value) if value else {}
    return loaded if isinstance(loaded, dict) else {}
