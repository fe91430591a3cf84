"""News items: the seed listing, RSS and Atom feeds, CSV files, and idempotent re-imports."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.news import (
    DuplicateNewsLink,
    NewsError,
    NewsItem,
    NewsItemNotFound,
    add_item,
    edit_item,
    import_csv,
    import_feed,
    import_listing,
    items_for_month,
    list_items,
    remove_item,
    translate_item,
    untranslate_item,
)

SEED = "004_c6c9b199964335b5.txt"

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/">
<channel>
  <title>Cooperatives Unit</title>
  <link>https://coop.example.org/</link>
  <description>News</description>
  <language>en-gb</language>
  <item>
    <title>Solar cooperatives light up &amp; power villages</title>
    <link>https://coop.example.org/news/solar</link>
    <guid isPermaLink="false">solar-2024</guid>
    <pubDate>Tue, 12 Mar 2024 09:00:00 +0000</pubDate>
    <category>Energy</category>
    <description><![CDATA[<p>Five <b>energy</b> cooperatives now serve
      <a href="https://coop.example.org/map">40 villages</a>.</p>
      <script>alert("x")</script><p>Members own the panels &amp; the grid.</p>]]></description>
    <media:thumbnail url="https://coop.example.org/img/solar.jpg"/>
  </item>
  <item>
    <title>An undated story</title>
    <link>https://coop.example.org/news/undated</link>
    <description>No date here.</description>
  </item>
  <item>
    <link>https://coop.example.org/news/untitled</link>
    <pubDate>Wed, 13 Mar 2024 09:00:00 +0000</pubDate>
    <description>No title here.</description>
  </item>
  <item>
    <title>A story with a script for a link</title>
    <link>javascript:alert(1)</link>
    <pubDate>Thu, 14 Mar 2024 09:00:00 +0000</pubDate>
  </item>
</channel>
</rss>
"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="fr">
  <title>Coop news</title>
  <id>urn:uuid:feed</id>
  <updated>2024-04-02T10:00:00Z</updated>
  <entry>
    <title>Des coop\xc3\xa9ratives de femmes au S\xc3\xa9n\xc3\xa9gal</title>
    <link rel="alternate" href="https://coop.example.org/fr/femmes"/>
    <id>urn:uuid:femmes</id>
    <published>2024-04-01T08:00:00Z</published>
    <updated>2024-04-02T08:00:00Z</updated>
    <category term="Genre"/>
    <summary type="html">&lt;p&gt;Un &lt;em&gt;nouveau&lt;/em&gt; r\xc3\xa9seau.&lt;/p&gt;</summary>
  </entry>
  <entry>
    <title type="text">Only updated, with content</title>
    <link href="https://coop.example.org/fr/contenu"/>
    <id>urn:uuid:contenu</id>
    <updated>2024-03-30T23:00:00Z</updated>
    <content type="xhtml">
      <div xmlns="http://www.w3.org/1999/xhtml"><p>Body <b>text</b>.</p></div>
    </content>
  </entry>
  <entry>
    <title></title>
    <id>urn:uuid:empty</id>
    <updated>2024-03-01T00:00:00Z</updated>
  </entry>
</feed>
"""


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(NewsItem)) or 0


def test_the_seed_listing_becomes_its_ten_items(session: Session, seeds: Path) -> None:
    text = (seeds / SEED).read_text(encoding="utf-8")
    summary = import_listing(session, text=text, name=SEED)
    assert (summary.added, summary.rejected, summary.reasons) == (10, 0, [])

    items = list_items(session, limit=100)
    months = Counter((item.published_on.year, item.published_on.month) for item in items)
    assert months == {
        (2022, 4): 1,
        (2021, 11): 2,
        (2020, 11): 2,
        (2020, 7): 2,
        (2020, 6): 1,
        (2019, 7): 1,
        (2018, 7): 1,
    }
    # The expectations are read from the seed itself rather than copied into this file.
    flat = " ".join(text.replace("\u00a0", " ").split())
    lines = {line.strip() for line in text.splitlines()}
    assert all(item.title in lines and item.summary in flat for item in items)
    assert not any("\u00a0" in item.title + item.summary for item in items)  # folded
    newest, oldest = items[0], items[-1]
    assert (newest.category, newest.published_on) == ("News", date(2022, 4, 1))
    assert newest.summary.count(".") >= 1 and len(newest.summary) > 100
    assert (newest.link, newest.source) == (None, f"listing:{SEED}")
    assert (oldest.category, oldest.published_on) == (
        "International Day of Cooperatives",
        date(2018, 7, 6),
    )
    assert oldest.summary.endswith("production.")

    by_category = {item.category: item for item in items}
    blog = by_category["Blog"]
    assert blog.published_on == date(2019, 7, 16)
    assert not any("\u00a9" in item.title + item.summary for item in items)  # credit dropped
    video = next(item for item in items if item.category.startswith("COVID-19:"))
    assert video.published_on == date(2020, 6, 1)
    assert by_category["ILO at Expo 2020"].published_on == date(2020, 11, 3)
    assert not any("newsroom" in item.title + item.summary for item in items)
    assert sum(item.category == "International Day of Cooperatives" for item in items) == 3

    july = items_for_month(session, year=2020, month=7)
    assert len(july) == 2
    assert [item.published_on for item in july] == sorted(
        (item.published_on for item in july), reverse=True
    )
    assert items_for_month(session, year=2020, month=8) == []

    again = import_listing(session, text=text, name=SEED)
    assert (again.added, again.updated, again.unchanged, again.rejected) == (0, 0, 10, 0)
    assert count(session) == 10


def test_listing_items_without_date_or_title_are_rejected_with_their_line(
    session: Session,
) -> None:
    text = (
        "March 2024\n\n  1. Energy\n\n    Solar villages\n\n    05 March 2024\n\n"
        "    Five cooperatives.\n    Forty villages.\n\n    Second paragraph.\n\n"
        "  2. Energy\n\n    No date at all\n\n"
        "  3. Energy\n\n    Bad day\n\n    31 February 2024\n\n"
        "  4. 07 March 2024\n\n    A summary without a title.\n"
        "Footer text of the page\n"
    )
    summary = import_listing(session, text=text, name="march.txt")
    assert (summary.added, summary.rejected) == (1, 3)
    assert summary.reasons == [
        "march.txt, line 14: no date line such as '01 April 2022'",
        "march.txt, line 18: '31 February 2024' is not a real date",
        "march.txt, line 24: no title line before the date",
    ]
    (item,) = list_items(session)
    assert item.summary == "Five cooperatives. Forty villages.\n\nSecond paragraph."
    with pytest.raises(NewsError, match=r"notes\.txt: no news items found"):
        import_listing(session, text="Just some notes\n  1. nothing dated\n", name="notes.txt")


def test_an_rss_feed_lands_with_plain_summaries_and_explained_rejections(
    session: Session,
) -> None:
    summary = import_feed(session, source=RSS, name="rss.xml")
    assert (summary.added, summary.rejected) == (1, 3)
    assert summary.reasons == [
        "rss.xml, entry 2: no date (neither published nor updated)",
        "rss.xml, entry 3: no title",
        "rss.xml, entry 4: link 'javascript:alert(1)' is not an http:// or https:// address",
    ]
    (item,) = list_items(session)
    assert item.title == "Solar cooperatives light up & power villages"
    assert item.summary == (
        "Five energy cooperatives now serve 40 villages.\n\nMembers own the panels & the grid."
    )
    assert (item.link, item.image_url) == (
        "https://coop.example.org/news/solar",
        "https://coop.example.org/img/solar.jpg",
    )
    assert (item.published_on, item.category, item.language) == (
        date(2024, 3, 12),
        "Energy",
        "en-GB",  # the feed said en-gb: written the standard way
    )
    assert (item.source, item.external_id) == ("feed:rss.xml", "solar-2024")

    again = import_feed(session, source=RSS, name="rss.xml")
    assert (again.added, again.updated, again.unchanged, again.rejected) == (0, 0, 1, 3)

    changed = RSS.replace(b"40 villages", b"45 villages").replace(
        b"/news/solar<", b"/news/solar-power<"
    )
    updated = import_feed(session, source=changed, name="rss.xml")
    assert (updated.added, updated.updated) == (0, 1)  # found again by its guid
    (item,) = list_items(session)
    assert item.link == "https://coop.example.org/news/solar-power"
    assert "45 villages" in item.summary


def test_an_atom_feed_lands(session: Session) -> None:
    summary = import_feed(session, source=ATOM, name="atom.xml")
    assert (summary.added, summary.rejected) == (2, 1)
    assert summary.reasons == ["atom.xml, entry 3: no title"]
    first, second = list_items(session)
    assert first.title == "Des coopératives de femmes au Sénégal"
    assert (first.published_on, first.category, first.language) == (
        date(2024, 4, 1),
        "Genre",
        "fr",
    )
    assert first.summary == "Un nouveau réseau."
    assert (first.link, first.external_id) == (
        "https://coop.example.org/fr/femmes",
        "urn:uuid:femmes",
    )
    assert (second.title, second.published_on) == ("Only updated, with content", date(2024, 3, 30))
    assert second.summary == "Body text."
    again = import_feed(session, source=ATOM, name="atom.xml")
    assert (again.added, again.unchanged) == (0, 2)


@pytest.mark.parametrize(
    "garbage",
    [
        b"",
        b"\x00\xff\xfe garbage \x89PNG\r\n\x1a\n",
        b"<html><body><p>Not a feed</p></body></html>",
        b'<?xml version="1.0"?><rss version="2.0"><channel><item><title>Cut',
        b"{" * 100_000,
    ],
)
def test_garbage_is_an_error_or_nothing_never_a_crash(session: Session, garbage: bytes) -> None:
    try:
        summary = import_feed(session, source=garbage, name="junk.xml")
    except NewsError as error:
        assert str(error).startswith("junk.xml: ")
        assert "\n" not in str(error)
    else:
        assert summary.added == 0
    assert count(session) == 0


def test_csv_good_rows_land_and_bad_rows_are_explained(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "news.csv"
    path.write_text(
        "title,date,category,summary,link,image_url,language\n"
        'Solar villages,2024-03-12,Energy,"Five cooperatives.",'
        "https://coop.example.org/solar,https://coop.example.org/solar.jpg,en\n"
        "Women's network,2024-04-01,Gender,A new network.,,,fr\n"
        "Bad date,2024-13-01,x,y,https://coop.example.org/bad-date,,\n"
        "Bad link,2024-03-01,x,y,ftp://coop.example.org/file,,\n"
        ",2024-03-01,x,y,https://coop.example.org/untitled,,\n"
        "Too few fields,2024-03-01\n"
        "Bad language,2024-03-01,x,y,https://coop.example.org/lang,,not a tag\n"
        "\n",
        encoding="utf-8",
    )
    summary = import_csv(session, path=path)
    assert (summary.added, summary.rejected) == (2, 5)
    assert summary.reasons == [
        "news.csv, line 4: date '2024-13-01' is not a date written YYYY-MM-DD",
        "news.csv, line 5: link 'ftp://coop.example.org/file' is not an http:// or https:// "
        "address",
        "news.csv, line 6: title is empty",
        "news.csv, line 7: expected 7 fields as in the header, found 2",
        "news.csv, line 8: language 'not a tag' is not a language tag such as en, fr or pt-BR",
    ]
    solar, network = list_items(session, month="2024-03") + list_items(session, month="2024-04")
    assert (solar.image_url, solar.language, solar.source) == (
        "https://coop.example.org/solar.jpg",
        "en",
        "csv:news.csv",
    )
    assert (network.link, network.category) == (None, "Gender")
    again = import_csv(session, path=path)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 2)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the file is empty"),
        ("title,date,summary\n", "the header must name the columns title, date, category"),
        ("title,date,category,summary,link,colour\n", "found: title, date,"),
    ],
)
def test_an_unusable_csv_is_one_error(
    session: Session, tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "news.csv"
    path.write_text(content)
    with pytest.raises(NewsError, match=message):
        import_csv(session, path=path)
    path.write_bytes(b"title,date,category,summary,link\n\xff\xfe,2024-01-01,,,\n")
    with pytest.raises(NewsError, match="not UTF-8"):
        import_csv(session, path=path)
    with pytest.raises(NewsError, match="no such file"):
        import_csv(session, path=tmp_path / "missing.csv")


def test_staff_items_are_validated_listed_and_removed(session: Session) -> None:
    item = add_item(
        session,
        title="  A   headline ",
        published_on=date(2024, 5, 2),
        link="https://coop.example.org/é",
        language="PT-br",
    )
    assert (item.title, item.link, item.language, item.source) == (
        "A headline",
        "https://coop.example.org/%C3%A9",
        "pt-BR",
        "staff",
    )
    with pytest.raises(NewsError, match=f"news item {item.id} already has the link"):
        add_item(session, title="Again", published_on=date(2024, 5, 3), link=item.link or "")
    for bad, message in [
        ({"link": "coop.example.org"}, "not an http:// or https:// address"),
        ({"link": ""}, "link is empty"),
        ({"title": "x" * 301}, "title is longer than 300 characters"),
        ({"category": "x\x00y"}, "category contains a NUL"),
        ({"image_url": "data:image/png;base64,AAAA"}, "image 'data:image"),
    ]:
        arguments = {"title": "T", "link": "https://coop.example.org/t", **bad}
        with pytest.raises(NewsError, match=message):
            add_item(session, published_on=date(2024, 5, 2), **arguments)
    assert [found.id for found in list_items(session, month="2024-05")] == [item.id]
    assert list_items(session, month="2024-06") == []
    with pytest.raises(NewsError, match="YYYY-MM"):
        list_items(session, month="2024-13")
    remove_item(session, item_id=item.id)
    assert count(session) == 0
    with pytest.raises(NewsItemNotFound, match=f"there is no news item {item.id}$"):
        remove_item(session, item_id=item.id)


def test_staff_edit_any_item_and_its_translations(session: Session) -> None:
    taken = add_item(
        session, title="Taken", published_on=date(2024, 5, 1), link="https://coop.example.org/t"
    )
    session.add(NewsItem(title="Market day", published_on=date(2024, 5, 2), source="listing:x"))
    session.flush()
    (listed,) = [item for item in list_items(session) if item.link is None]
    edit_item(
        session, item_id=listed.id, link=" https://coop.example.org/market ", summary="a\r\nb"
    )
    assert (listed.title, listed.link, listed.summary, listed.source) == (
        "Market day",
        "https://coop.example.org/market",
        "a\nb",
        "listing:x",
    )
    with pytest.raises(DuplicateNewsLink, match=f"news item {taken.id} already has the link"):
        edit_item(session, item_id=listed.id, link=taken.link)
    with pytest.raises(NewsError, match="title is empty"):
        edit_item(session, item_id=listed.id, title=" ")
    edit_item(session, item_id=taken.id, link=taken.link, published_on=date(2024, 6, 3))
    assert taken.published_on == date(2024, 6, 3)  # its own link is no duplicate
    edit_item(session, item_id=listed.id, link="")
    assert listed.link is None
    with pytest.raises(NewsItemNotFound):
        edit_item(session, item_id=listed.id + 100, title="Gone")

    translate_item(session, item_id=listed.id, language="fr", title="Jour de marché")
    translate_item(session, item_id=listed.id, language="es", title="Día de mercado")
    untranslate_item(session, item_id=listed.id, language="fr")
    assert listed.translations == {"es": {"title": "Día de mercado"}}
