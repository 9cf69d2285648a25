"""Sentence boundaries per language, offline.

NLTK's pretrained Punkt models are downloadable data (``punkt``/``punkt_tab``) that cannot be
fetched here, so the project builds Punkt from parameters it ships: abbreviations per language
(for English those common in news: titles, months, states, corporate suffixes), single-letter
initials of the language's alphabet, and for languages that write ordinals with a period
("5. toukokuuta", "3. Oktober") numbers that do not end sentences. ``nltk.download`` is never
called, and nltk is imported only when a text is first split (indexing), never to answer.

Punkt's sentence marks are extended with the Arabic question mark ؟, the Urdu full stop ۔ and
the Devanagari/Bengali danda । and double danda ॥; Chinese and Japanese sentences end in
。！？ (split by a rule inside Punkt's sentences). Scripts without sentence marks (Thai, Lao,
Khmer, Burmese) keep each paragraph whole: passages are then paragraph windows.
"""

from __future__ import annotations

import re
import string
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nltk.tokenize.punkt import PunktSentenceTokenizer

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


# Lower-case, without the final period. Kept short: words that also end sentences as ordinary
# words are left out, as for English.
_ABBREVIATIONS = {
    "ru": "г гг т.е т.д т.п т.к др пр см ср им ул пл пер д кв тыс млн млрд руб коп н.э "
    "напр проф акад доц зам ген гл обл р-н стр рис табл",
    "uk": "р рр т.д т.п т.ч ім вул пл пров буд кв тис млн млрд грн н.е проф акад доц обл стор",
    "bg": "г гр т.е т.н др ул бул проф акад доц хил млн млрд",
    "es": "sr sra srta sres dr dra ud uds lic ing arq prof pág págs núm etc art cap vol ej "
    "aprox av avda ee.uu gral",
    "pt": "sr sra srs dr dra prof profa eng av etc pág págs núm art cap vol ex aprox",
    "fr": "m mm mme mmes mlle dr pr me st ste etc av apr boul chap p pp vol art env cf",
    "it": "sig sigg sig.ra dott dott.ssa prof avv ing arch geom on sen dr ecc pag art cap vol",
    "de": "hr fr dr prof dipl ing nr str bzw usw z.b u.a d.h v.a s.o evtl ggf ca inkl zzgl "
    "jh mio mrd abs art bd",
    "nl": "dhr mevr mr dr ir prof ing drs nr blz enz bijv m.a.w o.a d.w.z ca",
    "id": "dr ir prof drs h hj no hlm jl tn ny sdr dll dsb dst tgl",
    "ms": "dr prof tn pn en hj no dll jln",
    "tr": "dr prof doç av müh yrd vb vs bkz sn no",
    "fi": "esim ks mm n noin ns prof tri yms jne em ko vrt klo s",
    "sv": "bl.a d.v.s dvs t.ex m.fl osv ca jfr prof dr kl nr s",
    "nb": "bl.a dvs f.eks mht osv ca jf nr kl prof dr st s",
    "da": "bl.a dvs f.eks mht osv ca jf nr kl prof dr st s",
    "pl": "np tzn m.in itd itp ok dr prof inż mgr ul al pl nr tys mln mld zł godz",
    "cs": "např tzv atd apod tj mj dr prof ing mgr ul nám č tis mil",
    # Telugu: units, eras and titles (కి.మీ. kilometre, సా.శ. / క్రీ.శ. CE, క్రీ.పూ. BCE, డా.
    # Dr, సం. year, నం. number, సెం. Saint), written with or without the space ("కి. మీ."),
    # degrees (బి.ఎ. BA), and initials: Latin letters as Telugu spells them (కె. K., ఎస్. S.).
    "te": "కి మీ కి.మీ చ.కి.మీ సెం.మీ మి.మీ కి.గ్రా సా సా.శ క్రీ క్రీ.శ క్రీ.పూ శ పూ డా శ్రీ "
    "సం నం సెం బి.ఎ ఎం.ఎ బి.ఎస్సీ ఎం.ఎస్సీ పిహెచ్.డి ఇ.యు "
    "ఎ ఏ బి బీ సి సీ డి డీ ఇ ఈ ఎఫ్ జి జీ హెచ్ ఐ జె జే కె కే ఎల్ ఎం ఎమ్ ఎన్ ఓ ఒ పి పీ "
    "క్యూ ఆర్ ఎస్ యస్ టి టీ యు యూ వి వీ డబ్ల్యు డబ్ల్యూ ఎక్స్ వై జడ్ జెడ్",
}
_ABBREVIATIONS["nn"] = _ABBREVIATIONS["no"] = _ABBREVIATIONS["nb"]
_ORDINAL_PERIOD = frozenset(
    [
        "de",
        "da",
        "nb",
        "nn",
        "no",
        "fi",
        "et",
        "is",
        "hu",
        "cs",
        "sk",
        "sl",
        "hr",
        "sr",
        "bs",
        "pl",
        "tr",
        "lv",
        "lt",
    ]
)
_CYRILLIC = "абвгдеёжзийклмнопрстуфхцчшщэюяіїєґ"
UNSEGMENTED = frozenset(["th", "lo", "km", "my"])  # languages written without sentence marks
SENTENCE_MARKS = (".", "?", "!", "؟", "۔", "।", "॥")
_CJK_SENTENCE = re.compile(r"\S(?:[^。！？]*[。！？]+[」』”\"]*|.*)", re.S)


def abbreviations(language: str) -> frozenset[str]:
    """Punkt's abbreviation types for ``language`` (English's for unknown languages)."""
    words = _ABBREVIATIONS.get(language)
    if words is None:
        return NEWS_ABBREVIATIONS
    letters = _CYRILLIC if language in {"ru", "uk", "bg", "sr", "mk", "be"} else ""
    initials = frozenset(letters) | frozenset(string.ascii_lowercase)
    numbers = {"##number##"} if language in _ORDINAL_PERIOD else set()
    return frozenset(words.split()) | initials | numbers


@cache
def _tokenizer(language: str) -> PunktSentenceTokenizer:
    from nltk.tokenize.punkt import PunktLanguageVars, PunktParameters, PunktSentenceTokenizer

    class Marks(PunktLanguageVars):
        sent_end_chars = SENTENCE_MARKS

    params = PunktParameters()
    params.abbrev_types = set(abbreviations(language))
    return PunktSentenceTokenizer(params, lang_vars=Marks())


def sentence_spans(text: str, language: str = "") -> list[tuple[int, int]]:
    """``(start, end)`` character spans of the sentences of ``text`` (whitespace excluded),
    split as ``language`` (ISO 639-1; "" unknown) writes them."""
    if language in UNSEGMENTED:
        start, end = len(text) - len(text.lstrip()), len(text.rstrip())
        return [(start, end)] if start < end else []
    spans = []
    key = language if language in _ABBREVIATIONS else ""
    for start, end in _tokenizer(key).span_tokenize(text):
        start += len(text[start:end]) - len(text[start:end].lstrip())  # Punkt keeps leading space
        # Punkt knows only alphabetic punctuation: Chinese and Japanese sentences end in 。！？
        spans += [m.span() for m in _CJK_SENTENCE.finditer(text, start, end)]
    return spans
