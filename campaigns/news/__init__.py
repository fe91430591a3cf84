"""News items for newsletters: the store, what staff do to an item, and importers from
feeds, CSV files and listings.

Every importer funnels into one validated upsert (``store``), so a re-import changes
nothing. Bad entries are counted and explained; good ones land. Each job has its module;
this package's names are the ones the shell and the digest use.
"""

from campaigns.news.csv_import import CSV_COLUMNS, CSV_OPTIONAL_COLUMNS, import_csv, import_csv_text
from campaigns.news.errors import (
    DuplicateNewsLink,
    InvalidNewsItem,
    NewsError,
    NewsItemNotFound,
)
from campaigns.news.feeds import FEED_BYTES_MAX, import_feed
from campaigns.news.files import decoded, read_file, read_listing
from campaigns.news.items import (
    add_item,
    edit_item,
    get_item,
    item_words,
    remove_item,
    translate_item,
    untranslate_item,
)
from campaigns.news.listing_import import import_listing
from campaigns.news.models import NewsItem
from campaigns.news.months import (
    MONTHS,
    items_for_month,
    list_items,
    month_label,
    months_with_items,
    parse_day,
    parse_month,
)
from campaigns.news.store import NewsImportSummary

__all__ = [
    "CSV_COLUMNS",
    "CSV_OPTIONAL_COLUMNS",
    "FEED_BYTES_MAX",
    "MONTHS",
    "DuplicateNewsLink",
    "InvalidNewsItem",
    "NewsError",
    "NewsImportSummary",
    "NewsItem",
    "NewsItemNotFound",
    "add_item",
    "decoded",
    "edit_item",
    "get_item",
    "import_csv",
    "import_csv_text",
    "import_feed",
    "import_listing",
    "item_words",
    "items_for_month",
    "list_items",
    "month_label",
    "months_with_items",
    "parse_day",
    "parse_month",
    "read_file",
    "read_listing",
    "remove_item",
    "translate_item",
    "untranslate_item",
]
