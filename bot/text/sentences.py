"""Sentence boundaries, offline.

NLTK's pretrained Punkt models are downloadable data (``punkt``/``punkt_tab``) that cannot be
fetched here, so the project builds Punkt from parameters it ships: abbreviations common in
news (titles, months, states, corporate suffixes) and single-letter initials. ``nltk.download``
is never called.
"""

from __future__ import annotations

import re
import string
from functools import lru_cache

from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer

# Lower-case, without the final period, as Punkt stores them ("u.s" for "U.S."). Words that
# also end sentences as ordinary words ("no", "ill", "sun", "miss") are left out on purpose.
NEWS_ABBREVIATIONS = (
    frozenset(
        [
            "mr",
            "mrs",
            "ms",
            "dr",
            "prof",
            "rev",
            "hon",
            "st",
            "sr",
            "jr",
            "messrs",
            "mme",
            "mlle",
            "sen",
            "rep",
            "gov",
            "gen",
            "lt",
            "col",
            "maj",
            "capt",
            "cmdr",
            "adm",
            "sgt",
            "cpl",
            "pvt",
            "supt",
            "insp",
            "det",
            "atty",
            "pres",
            "vp",
            "sec",
            "treas",
            "amb",
            "fr",
            "sis",
            "jan",
            "feb",
            "mar",
            "apr",
            "jun",
            "jul",
            "aug",
            "sep",
            "sept",
            "oct",
            "nov",
            "dec",
            "tue",
            "tues",
            "thu",
            "thur",
            "thurs",
            "inc",
            "corp",
            "co",
            "ltd",
            "plc",
            "llc",
            "bros",
            "assn",
            "dept",
            "univ",
            "natl",
            "intl",
            "govt",
            "ala",
            "ariz",
            "calif",
            "colo",
            "conn",
            "fla",
            "ga",
            "kan",
            "ky",
            "md",
            "mich",
            "minn",
            "mont",
            "neb",
            "nev",
            "okla",
            "tenn",
            "tex",
            "va",
            "vt",
            "wis",
            "wyo",
            "u.s",
            "u.k",
            "u.n",
            "e.u",
            "u.s.a",
            "u.a.e",
            "d.c",
            "n.y",
            "l.a",
            "p.m",
            "a.m",
            "e.g",
            "i.e",
            "etc",
            "vs",
            "cf",
            "al",
            "approx",
            "vol",
            "fig",
            "pp",
            "eds",
            "ibid",
            "mt",
            "ft",
            "sq",
            "km",
            "kg",
            "lb",
            "oz",
        ]
    )
    | frozenset(string.ascii_lowercase)
    | frozenset(  # initials: "John F. Kennedy", "J.K. Rowling"
        f"{a}.{b}" for a in string.ascii_lowercase for b in string.ascii_lowercase
    )
)


_CJK_SENTENCE = re.compile(r"\S(?:[^。！？]*[。！？]+[」』”\"]*|.*)", re.S)


@lru_cache(maxsize=1)
def _tokenizer() -> PunktSentenceTokenizer:
    params = PunktParameters()
    params.abbrev_types = set(NEWS_ABBREVIATIONS)
    return PunktSentenceTokenizer(params)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` character spans of the sentences of ``text`` (whitespace excluded)."""
    spans = []
    for start, end in _tokenizer().span_tokenize(text):
        start += len(text[start:end]) - len(text[start:end].lstrip())  # Punkt keeps leading space
        # Punkt knows only Latin punctuation: Chinese and Japanese sentences end in 。！？
        spans += [m.span() for m in _CJK_SENTENCE.finditer(text, start, end)]
    return spans
