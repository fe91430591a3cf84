"""An import whose columns are mapped (as the admin's import page does) and the preview
that shows a file's columns before mapping them."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from subscribers.errors import ImportFileError
from subscribers.importer import import_csv, preview_csv
from subscribers.lists import create_list
from subscribers.models import Subscriber

FILE = (
    "Correo,Nombre,Idioma,País,Notas\n"
    "lucia@andes.example.org,Lucía Quispe,es,Peru,met in Cusco\n"
    "not-an-address,Someone,es,Peru,\n"
    "amara@lagos.example.org,Amara Obi,en,Nigeria,\n"
).encode()


def test_mapped_columns_become_the_fields_and_attributes_named(
    session: Session, tmp_path: Path
) -> None:
    letters = create_list(session, name="letters", title="Letters")
    summary = import_csv(
        session,
        source=io.BytesIO(FILE),
        mailing_list=letters,
        rejects_path=tmp_path / "rejects.csv",
        wording="asked at the assembly",
        columns={
            "Correo": "email",
            "Nombre": "name",
            "Idioma": "language",
            "País": "country",
            "Notas": None,
        },
    )
    assert (summary.imported, summary.rejected) == (2, 1)
    lucia = session.scalar(select(Subscriber).where(Subscriber.email == "lucia@andes.example.org"))
    assert lucia is not None
    assert (lucia.name, lucia.language, lucia.attributes) == (
        "Lucía Quispe",
        "es",
        {"country": "Peru"},
    )
    rejects = (tmp_path / "rejects.csv").read_text(encoding="utf-8").splitlines()
    assert rejects[0] == "line,reason,Correo,Nombre,Idioma,País,Notas"  # the file's own header
    assert rejects[1].startswith("3,email:")


def test_a_mapping_needs_one_email_column(session: Session, tmp_path: Path) -> None:
    letters = create_list(session, name="letters", title="Letters")
    for columns in ({"Correo": None}, {"Correo": "email", "Nombre": "email"}):
        with pytest.raises(ImportFileError):
            import_csv(
                session,
                source=io.BytesIO(FILE),
                mailing_list=letters,
                rejects_path=tmp_path / "rejects.csv",
                wording="asked",
                columns=columns,
            )


def test_the_preview_shows_the_columns_and_first_rows() -> None:
    preview = preview_csv(io.BytesIO(FILE), rows=2)
    assert preview.columns == ["Correo", "Nombre", "Idioma", "País", "Notas"]
    assert preview.rows[0][:2] == ["lucia@andes.example.org", "Lucía Quispe"]
    assert len(preview.rows) == 2
    with pytest.raises(ImportFileError, match="empty"):
        preview_csv(io.BytesIO(b""))
