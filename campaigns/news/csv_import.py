"""Importing a CSV file of news items: title,date,category,summary,link[,image_url,language]."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from campaigns.news.errors import NewsError
from campaigns.news.files import read_text_file
from campaigns.news.months import parse_day
from campaigns.news.store import NewsImportSummary, source_of, store
from campaigns.news.validation import Candidate, Rejected, validated
from subscribers.importer import csv_records

CSV_COLUMNS = ("title", "date", "category", "summary", "link")
CSV_OPTIONAL_COLUMNS = ("image_url", "language")


def import_csv(session: Session, *, path: Path) -> NewsImportSummary:
    """Import a CSV file from disk (see ``import_csv_text``)."""
    return import_csv_text(session, text=read_text_file(path), name=path.name)


def import_csv_text(session: Session, *, text: str, name: str) -> NewsImportSummary:
    """Import a CSV file's text; ``name`` (the file's) says where each rejection is."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [column.strip().lower() for column in next(reader)]
    except StopIteration:
        raise NewsError(f"{name}: the file is empty; it needs a header row") from None
    except csv.Error as error:
        raise NewsError(f"{name}, line 1: the header cannot be read ({error})") from None
    expected = ", ".join(CSV_COLUMNS) + "[, " + ", ".join(CSV_OPTIONAL_COLUMNS) + "]"
    missing = [column for column in CSV_COLUMNS if column not in header]
    unknown = [c for c in header if c not in CSV_COLUMNS + CSV_OPTIONAL_COLUMNS]
    if missing or unknown or len(set(header)) != len(header):
        raise NewsError(
            f"{name}, line 1: the header must name the columns {expected}, "
            f"each once; found: {', '.join(header) or 'nothing'}"
        )
    summary = NewsImportSummary()
    for line, fields, unreadable in csv_records(reader):
        where = f"{name}, line {line}"
        if unreadable is not None:
            summary.reject(where, unreadable)
            continue
        if len(fields) != len(header):
            summary.reject(
                where, f"expected {len(header)} fields as in the header, found {len(fields)}"
            )
            continue
        row = dict(zip(header, fields, strict=True))
        try:
            candidate = validated(
                Candidate(
                    title=row["title"],
                    published_on=_csv_date(row["date"]),
                    link=row["link"].strip() or None,
                    summary=row["summary"],
                    category=row["category"],
                    image_url=row.get("image_url", "").strip() or None,
                    language=row.get("language"),
                )
            )
        except Rejected as error:
            summary.reject(where, str(error))
            continue
        store(session, candidate, source_of("csv", name), summary)
    return summary


def _csv_date(value: str) -> date:
    try:
        return parse_day(value)
    except NewsError as error:
        raise Rejected(str(error)) from None
