"""Article languages as ISO 639-1 codes ("en", "ru", "fa", "zh"), read from metadata.

Metadata spells them many ways: "en-US" and "pt_BR" (BCP 47 and POSIX locales), "EN",
"zh-Hans-CN", or codes ISO retired ("iw" for Hebrew, which old pages still send). All become
the bare lowercase code; anything that is not a known code becomes "" (unknown).
"""

from __future__ import annotations

import re

# Every ISO 639-1 code in use ("bh" and "sh", withdrawn, are left out).
_CODES = """
    aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu cv cy
    da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht
    hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky
    la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny
    oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss
    st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo
    za zh zu
"""
ISO_639_1 = frozenset(_CODES.split())
_RETIRED = {"iw": "he", "in": "id", "ji": "yi", "jw": "jv", "mo": "ro"}
# A language subtag followed by optional script/region/variant subtags.
_TAG = re.compile(r"([a-z]{2,3})(?:[-_][a-z0-9]{1,8})*")


def language_code(value: str) -> str:
    """The ISO 639-1 code that ``value`` (a language tag or locale) names, else ""."""
    match = _TAG.fullmatch(value.strip().lower())
    if not match:
        return ""
    code = _RETIRED.get(match[1], match[1])
    return code if code in ISO_639_1 else ""
