"""Publication dates, in the handful of spellings newsroom files actually use.

Pure stdlib on purpose: the formats are few and known, and a strict parser lets the
plain-text reader ask "is this whole line a date?" without false positives from a fuzzy one.
"""

from __future__ import annotations

import datetime as dt
import re

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}

# "Published:", "Updated on", "Tuesday,", "Tue." ... in front of the date itself.
_PREFIX = re.compile(
    r"^(?:(?:first\s+|last\s+)?(?:published|updated|posted|date[d]?)(?:\s+on)?\s*:?\s*)?"
    r"(?:(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day|nesday|sday|urday)?\.?,?\s+)?",
    re.IGNORECASE,
)
# An optional clock time after the date: "15:01:11.79", "10:00 AM", "10:00 a.m. EST".
_TIME = (
    r"(?:,?\s+(?:at\s+)?\d{1,2}[:.]\d{2}(?:[:.]\d{2}(?:\.\d+)?)?"
    r"(?:\s*[ap]\.?m\.?)?(?:\s+[A-Z]{2,5})?)?"
)
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_MONTH = r"(?P<month>[A-Za-z]{3,9})\.?"
_YEAR = r"(?P<year>\d{4})"

_ISO = re.compile(
    r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})"
    r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}:?\d{2})?)?"
)
_NAMED = [
    re.compile(rf"{_MONTH}\s+{_DAY},?\s+{_YEAR}{_TIME}", re.IGNORECASE),  # August 16, 2020
    re.compile(rf"{_DAY}\s+(?:of\s+)?{_MONTH},?\s+{_YEAR}{_TIME}", re.IGNORECASE),  # 16 Aug 2020
    re.compile(rf"{_DAY}-{_MONTH}-{_YEAR}{_TIME}", re.IGNORECASE),  # 26-FEB-1987 15:01:11.79
]


def parse_date(value: object) -> dt.date | None:
    """The date ``value`` denotes, or None when it is not (only) a date.

    Accepts date/datetime objects (PyYAML yields those for unquoted dates) and strings
    that consist of a single date, optionally with a weekday, a "Published"/"Updated"
    prefix and a clock time. Anything else, including impossible dates, gives None.
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        return None
    text = _PREFIX.sub("", value.strip(), count=1).strip()
    if match := _ISO.fullmatch(text):
        return _make_date(match["year"], match["month"], match["day"])
    for pattern in _NAMED:
        if match := pattern.fullmatch(text):
            month = _MONTHS.get(match["month"].lower())
            return _make_date(match["year"], month, match["day"]) if month else None
    return None


def _make_date(year: str, month: str | int, day: str) -> dt.date | None:
    try:
        return dt.date(int(year), int(month), int(day))
    except ValueError:
        return None
