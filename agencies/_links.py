"""Links beyond exact spelling: how strongly two identifiers, or two leads, point at the same thing.

An analyst links two leads when they seem to be about the same person, number, conveyance or place.
An identical identifier is the surest link (strength 1). The others are weaker, and some are wrong:

=============================  ========  ==========================================================
link                           strength  when
=============================  ========  ==========================================================
``exact``                      1.0       the same identifier key (kind and normalised value)
``document``                   0.95      a passport, plate or number written differently (spaces,
                                         dashes, a leading zero, letter case)
``spelling``                   0.9       a name or place the same once case, diacritics, punctuation,
                                         particles (al-, el-) and doubled letters are set aside, or an
                                         alias of a person spelt the same
``number-prefix``              0.8       one number ends with the whole other one (8+ digits): a
                                         country or trunk code added
``transliteration``            0.7       every word of two names sounds alike (Metaphone), the common
                                         mark of two transliterations of one name
``similar-name``               0.6       two names close by Jaro-Winkler (≥ 0.95) and alike in their
                                         first four letters: a typo, or two different people
``partial-name``               0.4       a surname alone, and a full name with that surname
``number-suffix``              0.4       a number's last 4-7 digits, and a full number ending in them
``surname``                    0.3       two full names sharing only the surname: kin, or namesakes
``co-travel``                  0.3       two leads placing travel or reconnaissance in the same
                                         country in overlapping windows
=============================  ========  ==========================================================

The strengths are assumptions (docs/model.md §3.4): they order the kinds of evidence as record
linkage does (an identical document number above a similar name above a shared surname), not
measured error rates. Every rule is symmetric, so ``link(a, b) == link(b, a)``.

Comparisons are blocked as record-linkage systems do: two identifiers are compared only when they
share a *block* (a normal form, a sound, a surname, the first four letters of a name, a number's last
four digits), so linking a lead
costs what its blocks hold, not the whole casebook. Every rule above holds only between identifiers
sharing a block, so blocking loses no link (a test checks it against comparing every pair).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import jellyfish

from tearline.model import Identifier, Lead

NAME_KINDS: frozenset[str] = frozenset({"person", "alias", "vessel"})
"""Identifiers compared as names (a person and an alias share one namespace)."""
NUMBER_KINDS: frozenset[str] = frozenset({"phone", "sim", "voip"})
DOCUMENT_KINDS: frozenset[str] = frozenset({"passport", "vehicle"})
PLACE_NAME_KINDS: frozenset[str] = frozenset({"venue", "address"})

STRENGTH: dict[str, float] = {
    "exact": 1.0,
    "document": 0.95,
    "spelling": 0.9,
    "number-prefix": 0.8,
    "transliteration": 0.7,
    "similar-name": 0.6,
    "partial-name": 0.4,
    "number-suffix": 0.4,
    "surname": 0.3,
    "co-travel": 0.3,
}
"""The strength of each kind of link (assumptions, docs/model.md §3.4)."""

SIMILAR_NAME = 0.95
"""Least Jaro-Winkler similarity of two names' normal forms for a ``similar-name`` link."""

_FOLD = str.maketrans({"ß": "ss", "æ": "ae", "ø": "o", "œ": "oe", "ı": "i", "đ": "d", "ł": "l", "þ": "th"})
_PARTICLES = frozenset({"al", "el", "ul", "ad", "ed", "ar", "as", "an", "ash", "ben", "bin", "ibn", "abu"})
"""Words joined to the next one, so ``al-Husseini``, ``al Husseini`` and ``Alhusseini`` agree."""
_ABD = re.compile(r"^abd(?:e|u|ou|oul|ul|al|el)?(?=[a-z])")
_SPELLING: tuple[tuple[str, str], ...] = (
    ("ph", "f"), ("ck", "k"), ("q", "k"), ("ou", "u"), ("ee", "i"), ("oo", "u"), ("y", "i"), ("dh", "d"),
)  # fmt: skip
_DOUBLE = re.compile(r"(.)\1+")


def _fold(value: str) -> str:
    """Lower case without diacritics: ``Mostéfaï`` → ``mostefai``."""
    decomposed = unicodedata.normalize("NFKD", value.casefold().translate(_FOLD))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _spelt(token: str) -> str:
    token = _ABD.sub("abdal", token)
    for old, new in _SPELLING:
        token = token.replace(old, new)
    return _DOUBLE.sub(r"\1", token)


@lru_cache(maxsize=65536)
def name_tokens(value: str) -> tuple[str, ...]:
    """A name's words in normal form: case, diacritics, punctuation, particles joined to the next
    word, and the common spelling variants of transliteration (ou/u, ph/f, q/k, y/i, doubled letters,
    abdel/abdul/abd al) set aside."""
    words = [w for w in re.split(r"[^0-9a-z]+", _fold(value)) if w]
    out: list[str] = []
    carry = ""
    for w in words:
        if w in _PARTICLES and carry == "":
            carry = "al" if w in {"al", "el", "ul", "ad", "ed", "ar", "as", "an", "ash"} else w
            continue
        out.append(_spelt(carry + w))
        carry = ""
    if carry:
        out.append(_spelt(carry))
    return tuple(out)


def name_form(value: str) -> str:
    """A name's normal form (its normalised words, space-separated)."""
    return " ".join(name_tokens(value))


@lru_cache(maxsize=65536)
def _word_sound(token: str) -> str:
    """One word's Metaphone code; a word with digits in it is no name, and sounds only like itself."""
    return (jellyfish.metaphone(token) or token) if token.isalpha() else token


@lru_cache(maxsize=65536)
def sound(value: str) -> str:
    """A name's sound: the Metaphone code of each normalised word."""
    return " ".join(_word_sound(t) for t in name_tokens(value))


def digits(value: str) -> str:
    """A number's digits, leading zeros (trunk prefix) dropped."""
    return re.sub(r"\D", "", value).lstrip("0")


def document_form(value: str) -> str:
    """A document number's letters and digits, upper case."""
    return re.sub(r"[^0-9A-Z]", "", _fold(value).upper())


def blocks(identifier: Identifier) -> tuple[str, ...]:
    """The blocks an identifier is filed under for fuzzy comparison (its exact key aside)."""
    kind, value = identifier.kind, identifier.value
    if kind in NAME_KINDS:
        space = "vessel" if kind == "vessel" else "name"
        tokens = name_tokens(value)
        if not tokens:
            return ()
        out = [f"{space}:n:{name_form(value)}", f"{space}:s:{sound(value)}", f"{space}:t:{tokens[-1]}"]
        out.append(f"{space}:p:{name_form(value)[:4]}")
        return tuple(out)
    if kind in NUMBER_KINDS:
        d = digits(value)
        return (f"{kind}:d:{d[-4:]}",) if len(d) >= 4 else ()
    if kind in DOCUMENT_KINDS:
        form = document_form(value)
        return (f"{kind}:a:{form}",) if form else ()
    if kind in PLACE_NAME_KINDS:
        form = name_form(value)
        return (f"place:n:{form}",) if form else ()
    return ()


def identifier_link(a: Identifier, b: Identifier) -> tuple[float, str]:
    """How strongly two identifiers point at the same thing, and why (0 and ``""`` when they do not)."""
    return _link(a.kind, a.value, b.kind, b.value)


def _link(ka: str, va: str, kb: str, vb: str) -> tuple[float, str]:
    if ka == kb and va == vb:
        return STRENGTH["exact"], "exact"
    if ka in NAME_KINDS and kb in NAME_KINDS and (ka == "vessel") == (kb == "vessel"):
        return _name_link(va, vb)
    if ka != kb:
        if {ka, kb} <= PLACE_NAME_KINDS:
            return _place_link(va, vb)
        return 0.0, ""
    if ka in NUMBER_KINDS:
        return _number_link(va, vb)
    if ka in DOCUMENT_KINDS:
        fa, fb = document_form(va), document_form(vb)
        return (STRENGTH["document"], "document") if fa and fa == fb else (0.0, "")
    if ka in PLACE_NAME_KINDS:
        return _place_link(va, vb)
    return 0.0, ""


def _name_link(a: str, b: str) -> tuple[float, str]:
    ta, tb = name_tokens(a), name_tokens(b)
    if not ta or not tb:
        return 0.0, ""
    if ta == tb:
        return STRENGTH["spelling"], "spelling"
    if len(ta) == len(tb) and sound(a) == sound(b):
        return STRENGTH["transliteration"], "transliteration"
    fa, fb = sorted((" ".join(ta), " ".join(tb)))
    if fa[:4] == fb[:4] and jellyfish.jaro_winkler_similarity(fa, fb) >= SIMILAR_NAME:
        return STRENGTH["similar-name"], "similar-name"
    if ta[-1] == tb[-1]:
        if len(ta) == 1 or len(tb) == 1:
            return STRENGTH["partial-name"], "partial-name"
        return STRENGTH["surname"], "surname"
    return 0.0, ""


def _number_link(a: str, b: str) -> tuple[float, str]:
    da, db = digits(a), digits(b)
    if len(da) < 4 or len(db) < 4:
        return 0.0, ""
    if da == db:
        return STRENGTH["document"], "document"
    short, long_ = sorted((da, db), key=len)
    if not long_.endswith(short):
        return 0.0, ""
    if len(short) >= 8:
        return STRENGTH["number-prefix"], "number-prefix"
    return STRENGTH["number-suffix"], "number-suffix"


def _place_link(a: str, b: str) -> tuple[float, str]:
    fa, fb = name_form(a), name_form(b)
    return (STRENGTH["spelling"], "spelling") if fa and fa == fb else (0.0, "")


_PRESENCE = frozenset({"travel", "recon"})


def presence(lead: Lead) -> tuple[tuple[str, int, int], ...]:
    """Where and when a lead places someone: (country, from, to) for each travel or reconnaissance
    indicator with a window, in each country its places name."""
    countries = sorted({i.where for i in lead.identifiers if i.kind in PLACE_NAME_KINDS and i.where})
    windows = sorted(
        {
            (ind.window.start, ind.window.end)
            for ind in lead.indicators
            if ind.kind in _PRESENCE and ind.window
        }
    )
    return tuple((c, a, b) for c in countries for a, b in windows)


@dataclass(frozen=True)
class Link:
    """Why two leads are linked, and how strongly."""

    strength: float
    why: str
    """The kind of link (a key of :data:`STRENGTH`)."""
    left: str = ""
    right: str = ""
    """The identifier keys (or countries, for co-travel) that made it."""


NO_LINK = Link(0.0, "")


def lead_link(a: Lead, b: Lead) -> Link:
    """The strongest link between two leads: over every pair of their identifiers, and co-travel.

    Symmetric; 1 exactly when they share an identifier key. Ties between equally strong pairs go to
    the smallest pair of keys, so the reason given does not depend on the order of the leads."""
    best = NO_LINK
    for x in a.identifiers:
        for y in b.identifiers:
            link = pair_link(x, y)
            if link.strength > 0 and stronger(link, best):
                best = link
    if best.strength < STRENGTH["co-travel"]:
        travel = co_travel(a, b)
        if travel.strength > 0:
            return travel
    return best


def stronger(a: Link, b: Link) -> bool:
    """Whether ``a`` beats ``b``: stronger, or as strong and made by a smaller pair of keys."""
    return a.strength > b.strength or (a.strength == b.strength and (a.left, a.right) < (b.left, b.right))


def pair_link(x: Identifier, y: Identifier) -> Link:
    """The link two identifiers make, as a :class:`Link` (keys in sorted order)."""
    return _pair_link(x.kind, x.value, y.kind, y.value)


@lru_cache(maxsize=262144)
def _pair_link(kx: str, vx: str, ky: str, vy: str) -> Link:
    strength, why = _link(kx, vx, ky, vy)
    if strength <= 0:
        return NO_LINK
    left, right = sorted((f"{kx}:{vx}", f"{ky}:{vy}"))
    return Link(strength, why, left, right)


def co_travel(a: Lead, b: Lead) -> Link:
    """A co-travel link between two leads, or none."""
    pb = presence(b)
    for country, s1, e1 in presence(a):
        if any(c == country and s1 <= e2 and s2 <= e1 for c, s2, e2 in pb):
            return Link(STRENGTH["co-travel"], "co-travel", country, country)
    return NO_LINK
