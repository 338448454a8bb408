"""Value profiles: what a field's sample values look like, independent of its name.

:func:`profile` turns samples into a :class:`Profile`: the share of each value kind (e-mail,
EAN/GTIN with a valid check digit, ISO country and currency codes, dates by format, decimals with
a point or a comma, integers, booleans in English/German/French spellings or 0/1/Y/N, HTML,
phone numbers, URLs, IBANs, short codes, amounts with a currency sign, rates with ``%``, free
text), the typical magnitude of numbers, the typical length of texts, and the values in a
canonical form (a Unix time and ``02.04.2024`` both as ``2024-04-02``, ``1.299,00`` as
``1299``, a URL also as its path; a lookup prefix such as ``code:`` is dropped).
:func:`profile_similarity` compares two profiles (0..1, or ``None`` when either side
has no samples: no evidence either way); :func:`shared_values` says how strongly two fields
hold the same values, also across a power of ten (cents vs amounts, grams vs kilograms).
:func:`type_similarity` compares declared types.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pipelines.ai.suggest.countries import country_code

__all__ = ["Profile", "profile", "profile_similarity", "shared_values", "type_similarity"]

_COUNTRIES2 = frozenset(
    "AD AE AF AG AL AM AO AR AT AU AZ BA BB BD BE BF BG BH BI BJ BN BO BR BS BT BW BY BZ CA CD CF CG CH CI CL CM "
    "CN CO CR CU CV CY CZ DE DJ DK DM DO DZ EC EE EG ER ES ET FI FJ FR GA GB GD GE GH GM GN GQ GR GT GW GY HK HN HR "
    "HT HU ID IE IL IN IQ IR IS IT JM JO JP KE KG KH KM KN KP KR KW KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME "
    "MG MK ML MM MN MR MT MU MV MW MX MY MZ NA NE NG NI NL NO NP NZ OM PA PE PG PH PK PL PT PY QA RO RS RU RW SA SB "
    "SC SD SE SG SI SK SL SM SN SO SR SV SY SZ TD TG TH TJ TL TM TN TO TR TT TW TZ UA UG US UY UZ VA VC VE VN YE ZA "
    "ZM ZW".split())
_COUNTRIES3 = dict(pair.split(":") for pair in (
    "AUT:AT BEL:BE CHE:CH DEU:DE DNK:DK ESP:ES FIN:FI FRA:FR GBR:GB GRC:GR IRL:IE ITA:IT LUX:LU NLD:NL NOR:NO "
    "POL:PL PRT:PT SWE:SE USA:US CAN:CA AUS:AU JPN:JP CHN:CN BRA:BR MEX:MX CZE:CZ HUN:HU ROU:RO BGR:BG HRV:HR "
    "SVN:SI SVK:SK EST:EE LVA:LV LTU:LT").split())
_CURRENCIES = frozenset("EUR USD GBP CHF JPY CNY SEK NOK DKK PLN CZK HUF RON BGN HRK CAD AUD NZD BRL MXN INR RUB "
                        "TRY ZAR SGD HKD KRW".split())
# yes/no in the languages of the lexicon (sim/não, tak/nie, ja/nej/nei, ano/ne, sì/no)
_BOOLS = frozenset("true false yes no ja nein oui non y n j t f x wahr falsch vrai faux on off si nao sim tak nie "
                   "nej nei ano ne kylla kyllä ei da nu evet hayir hayır".split())
# legal forms that end a company's name (GmbH, S.L., Sp. z o.o., A/S, Oy, SRL, A.Ş., Lda.)
_COMPANY = re.compile(r"[\s,](GmbH|AG|KG|OHG|UG|e\.\s?K\.|SARL|SAS|SA|S\.A\.|S\.L\.|SL|SRL|S\.R\.L\.|S\.r\.l\.|SpA|"
                      r"S\.p\.A\.|[Ss]p\.\s?z\s?o\.\s?o\.|BV|B\.V\.|NV|N\.V\.|AB|ASA|AS|A/S|ApS|Oy|Oyj|Ltd\.?|Limited|"
                      r"LLC|Inc\.?|Corp\.?|Corporation|PLC|plc|s\.r\.o\.|a\.s\.|Kft\.?|Lda\.?|Ltda\.?|A\.Ş\.|Ltd\.\s?Şti\.?|S\.C\.|"
                      r"SE)$")
# a person's full name: two to four capitalised words (particles allowed: "van den Berg", "de Vries")
_PERSON = re.compile(r"^[^\W\d_][^\W\d_'’-]+(\s+((van|von|de|der|den|da|di|del|la|le|du|dos|das|y|e)\s+)*"
                     r"[^\W\d_][^\W\d_'’-]+){1,3}$")
_PARTICLES = frozenset("van von de der den da di del la le du dos das y e".split())
# an opaque generated key: a UUID, or a long run of letters and digits mixed (Square's customer ids)
_TOKEN = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$|^(?=.*\d)(?=.*[A-Za-z])"
                    r"[A-Za-z0-9_]{16,}$", re.I)
_RE = {
    "email": re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.I),
    "url": re.compile(r"^(https?://|www\.)\S+$", re.I),
    "html": re.compile(r"<(p|div|br|ul|li|b|strong|span|h\d|em|table)[\s>/]", re.I),
    # an XML date may carry its time zone ("2024-10-01+02:00", "2024-10-01Z": ABRA Flexi, UBL)
    "date_iso": re.compile(r"^\d{4}([-/])\d{2}\1\d{2}(Z|[+-]\d{2}:\d{2})?$"),
    # SAP, EDI and DATEV write dates as YYYYMMDD
    "date_compact": re.compile(r"^(19[89]|20[0-3])\d(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])$"),
    "datetime": re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?"),
    # RFC 2822 and written-out dates: "Thu, 02 May 2024 14:30:00 +0000", "2. Mai 2024", "3 mars 2024"
    "date_text": re.compile(r"^([A-Za-z]{2,4}\.?,\s*)?\d{1,2}\.?\s+[^\W\d_]{3,9}\.?\s+\d{4}\b"),
    # day first with dots or dashes: "31.12.2024", "18-03-2024"
    "date_dot": re.compile(r"^\d{1,2}([.-])\d{1,2}\1\d{2,4}$"),
    "date_slash": re.compile(r"^\d{1,2}/\d{1,2}/\d{2,4}$"),
    "int": re.compile(r"^[+-]?\d{1,9}$"),
    "dec_point": re.compile(r"^[+-]?\d{1,3}(,\d{3})*\.\d+$|^[+-]?\d+\.\d+$"),
    "dec_comma": re.compile(r"^[+-]?\d{1,3}([. \u00a0\u202f]\d{3})*,\d+$|^[+-]?\d+,\d+$"),
    "phone": re.compile(r"^(\+|00)?[\d\s()./-]{7,20}$"),
    "iban": re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9 ]{10,30}$"),
    # document numbers with slashes count too ("FV-0145/2024", "FV/2024/01/001": Czech and Polish invoices)
    "code": re.compile(r"^#?[A-Z0-9][A-Z0-9_/-]{1,19}$"),
}
# kinds that are near each other (a decimal column may hold "12" too)
# a currency sign or code before or after an amount, a percent sign after a rate
_MONEY = re.compile(r"^(?:[€$£¥]|[A-Z]{3})\s?(?=\d)|(?<=\d)\s?(?:[€$£¥%]|[A-Z]{3})$")
_NEAR = {("country_name", "country2"): 0.8, ("country_name", "country3"): 0.8, ("country_name", "name"): 0.5,
         ("percent", "int"): 0.6, ("percent", "dec_point"): 0.6, ("percent", "dec_comma"): 0.6,
         ("dec_point", "dec_comma"): 0.9, ("dec_point", "int"): 0.6, ("dec_comma", "int"): 0.6,
         ("date_iso", "datetime"): 0.8, ("epoch", "datetime"): 0.8, ("epoch", "date_iso"): 0.7,
         ("epoch", "date_dot"): 0.6, ("epoch", "date_slash"): 0.6, ("epoch", "int"): 0.3, ("date_iso", "date_dot"): 0.85, ("date_iso", "date_slash"): 0.85,
         ("date_dot", "date_slash"): 0.85, ("datetime", "date_dot"): 0.7, ("datetime", "date_slash"): 0.7,
         ("bool", "int"): 0.4, ("text", "name"): 0.7, ("code", "int"): 0.4, ("code", "text"): 0.3, ("code", "name"): 0.5,
         ("ean", "int"): 0.3, ("phone", "int"): 0.2, ("html", "text"): 0.6, ("html", "name"): 0.4, ("country2", "code"): 0.3,
         ("currency", "code"): 0.3, ("country3", "code"): 0.3, ("country2", "country3"): 0.7,
         ("company", "name"): 0.6, ("company", "text"): 0.6, ("person", "name"): 0.6, ("person", "text"): 0.6,
         ("company", "person"): 0.5, ("token", "code"): 0.5, ("token", "text"): 0.2, ("token", "name"): 0.2}


# a relation written with its lookup scheme ("code:CZK", "ext:SHOP:1001": ABRA Flexi, iDoklad
# exports): the value is what follows (not "https://", which is a URL)
_SCHEME = re.compile(r"^(code|ext):(?!//)", re.I)


def _ean_ok(digits: str) -> bool:
    if len(digits) not in (8, 12, 13, 14):
        return False
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(reversed(digits[:-1]), start=1))
    return (10 - total % 10) % 10 == int(digits[-1])


def kind_of(value: Any) -> str:
    """The kind of one sample value."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "bool" if value in (0, 1) else "epoch" if _epoch(value) else "int"
    if isinstance(value, float):
        return "dec_point"
    text = _SCHEME.sub("", str(value).strip())
    if not text:
        return "empty"
    low = text.lower()
    if low in _BOOLS or text in ("0", "1"):
        return "bool"
    if _RE["html"].search(text):
        return "html"
    if _RE["email"].match(text):
        return "email"
    if _RE["url"].match(text):
        return "url"
    if _RE["date_compact"].match(text):
        return "date_iso"
    if text.isdigit() and _ean_ok(text):
        return "ean"
    if _RE["datetime"].match(text) or _RE["date_text"].match(text):
        return "datetime"
    if text.isdigit() and _epoch(int(text)):
        return "epoch"
    for k in ("date_iso", "date_dot", "date_slash", "int", "dec_point", "dec_comma"):
        if _RE[k].match(text):
            return k
    bare = _MONEY.sub("", text)
    if bare != text:
        # "€12,50", "$1,299.00", "49.90 EUR" are amounts; "19 %" a rate
        for k in ("int", "dec_point", "dec_comma"):
            if _RE[k].match(bare):
                return "percent" if text.endswith("%") else k
    if text.upper() in _CURRENCIES and (text.isupper() or text.islower()):
        return "currency"  # Stripe and others send "usd"
    if text in _COUNTRIES2 or (len(text) == 2 and text.islower() and text.upper() in _COUNTRIES2):
        return "country2"
    if text in _COUNTRIES3:
        return "country3"
    if country_code(text):
        return "country_name"  # "Italia", "United States": a country field holding names
    if _RE["iban"].match(text.replace(" ", "")) and len(text.replace(" ", "")) >= 15:
        return "iban"
    if _RE["phone"].match(text) and sum(c.isdigit() for c in text) >= 7:
        return "phone"
    if _TOKEN.match(text):
        return "token"
    if _RE["code"].match(text) and (any(c.isdigit() or c in "-_" for c in text) or len(text) >= 3):
        return "code"  # A-1001, TS-RED-M, NOT_PAID, BLUE: upper-case tokens are codes, not names
    if _COMPANY.search(text):
        return "company"
    if len(text) <= 40 and _PERSON.match(text) and all(w[0].isupper() and not w[1:].isupper()
                                                              for w in text.split() if w not in _PARTICLES):
        return "person"
    if len(text) <= 40 and text[:1].isupper() and len(text.split()) <= 3:
        return "name"
    return "text"


def _epoch(n: int) -> bool:
    """A Unix time in seconds or milliseconds between 2000 and 2040 (APIs send dates so)."""
    return 946_684_800 <= n <= 2_208_988_800 or 946_684_800_000 <= n <= 2_208_988_800_000


def _parse_number(value: Any) -> float | None:
    """A number written with a point or a comma (``1.234,56``, ``1,234.56``, ``12,5``)."""
    text = _MONEY.sub("", str(value).strip()).replace(" ", "").replace("\u00a0", "").replace("\u202f", "")
    if "," in text and "." in text:
        text = text.replace(".", "").replace(",", ".") if text.rfind(",") > text.rfind(".") else text.replace(",", "")
    else:
        text = text.replace(",", ".")
    try:
        f = float(text)
    except ValueError:
        return None
    return f if math.isfinite(f) else None


def _magnitude(value: Any) -> float | None:
    f = _parse_number(value)
    return None if f is None else math.log10(abs(f) + 1.0)


@dataclass
class Profile:
    kinds: dict[str, float] = field(default_factory=dict)
    magnitude: float | None = None
    length: float | None = None
    #: the values in one canonical form (dates as ISO dates, numbers without format, text lower case)
    values: frozenset[str] = frozenset()
    n: int = 0
    #: the non-zero numbers among the values
    numbers: frozenset[float] = frozenset()
    #: the share of the numbers that have a fractional part (amounts do, ids and counts do not)
    fraction: float = 0.0
    #: the text values as " word word " (letters and digits only), to find one side's values
    #: inside the other's ("Zalando order 10105034567231", "mr-dealer-a" around "DEALER-A")
    spaced: frozenset[str] = frozenset()
    #: the codes and numbers among them of 5+ letters and digits: what may be found inside
    needles: frozenset[str] = frozenset()


def _number(value: Any) -> float | None:
    f = _parse_number(value)
    return None if f is None else round(f, 6)


def _canonical(value: Any, kind: str) -> tuple[str, ...]:
    """One value as comparable text: ``1712044800`` (Unix time) and ``"02.04.2024"`` both
    become ``"2024-04-02"``, ``"1.299,00"`` becomes ``"1299"``; ``"05/04/2024"`` may be read
    both ways; a URL is also its path (``https://shop.example/shoes/trail-2`` holds the slug
    ``shoes/trail-2`` a source keeps)."""
    text = _SCHEME.sub("", str(value).strip())
    if kind == "url":
        path = _HOST.sub("", text).strip("/").lower()
        return (text.lower(), path) if len(path) >= 5 and path != text.lower() else (text.lower(),)
    try:
        if kind == "epoch":
            n = int(value)
            return (datetime.fromtimestamp(n / 1000 if n > 10**11 else n, tz=UTC).date().isoformat(),)
        if kind == "date_iso" and len(text) == 8:
            return (f"{text[:4]}-{text[4:6]}-{text[6:]}",)
        if kind in ("datetime", "date_iso") and text[:4].isdigit():
            return (text[:10].replace("/", "-"),)
        if kind in ("date_dot", "date_slash"):
            a, b, y = (int(x) for x in re.split(r"[./-]", text))
            y += 2000 if y < 100 else 0
            days = [(a, b)] if kind == "date_dot" or a > 12 else [(b, a)] if b > 12 else [(a, b), (b, a)]
            return tuple(f"{y:04d}-{mo:02d}-{d:02d}" for d, mo in days)
    except (ValueError, OverflowError, OSError):
        return (text.lower(),)
    if kind in ("int", "dec_point", "dec_comma", "percent"):
        num = _number(value)
        if num is not None:
            return (str(int(num)) if num.is_integer() else f"{num:.6g}",)
    if kind in ("country_name", "country2", "country3"):
        # one country, however written: "Italia", "IT", "ITA" are "it"
        return ((country_code(text) or _COUNTRIES3.get(text.upper()) or text).lower(),)
    if kind == "html":
        # the text of a snippet: "<p>Spülmaschinenfest</p>" is what a plain-text field holds
        return (_TAGS.sub(" ", text).strip().lower(),)
    if _PUNCTUATED.match(text):
        # tax ids and the like, with or without their punctuation: "123.456.789-09" is 12345678909
        return text.lower(), re.sub(r"\D", "", text)
    return (text.lower(),)


def profile(samples: list[Any] | None) -> Profile:
    values = [v for v in (samples or []) if v is not None and str(v).strip() != ""]
    if not values:
        return Profile()
    counts: dict[str, float] = {}
    mags = []
    canon: set[str] = set()
    numbers: set[float] = set()
    spaced: set[str] = set()
    needles: set[str] = set()
    for v in values:
        k = kind_of(v)
        counts[k] = counts.get(k, 0) + 1
        if k in _CONTAINERS:
            ws = _WORDS.findall(_SCHEME.sub("", str(v)).lower())
            text = f" {' '.join(ws)} "
            spaced.add(text)
            if k in _NEEDLES and sum(map(len, ws)) >= 5:
                needles.add(text)
        canon.update(_canonical(v, k))
        if k in ("int", "dec_point", "dec_comma", "percent"):
            m = _magnitude(v)
            if m is not None:
                mags.append(m)
            num = _number(v)
            if num:
                numbers.add(num)
    n = len(values)
    return Profile({k: c / n for k, c in counts.items()}, sum(mags) / len(mags) if mags else None,
                   sum(len(str(v)) for v in values) / n, frozenset(canon), n, frozenset(numbers),
                   sum(not x.is_integer() for x in numbers) / len(numbers) if numbers else 0.0,
                   frozenset(spaced), frozenset(needles))


# the kinds whose values may hold another field's value inside them (not e-mails or URLs, which
# hold names and hosts of everything, nor dates and amounts)
_CONTAINERS = frozenset({"code", "text", "name", "company", "person", "token", "int", "phone"})
# what may be found inside: codes and numbers (a person's name inside a full name or an e-mail
# is a part of it, not the same thing)
_NEEDLES = frozenset({"code", "token", "int", "phone"})
_WORDS = re.compile(r"[^\W_]+")


def _contained(a: Profile, b: Profile) -> int:
    """How many of a's distinctive values appear, word for word, inside a longer value of b."""
    return sum(any(x in y and x != y for y in b.spaced) for x in a.needles)



_HOST = re.compile(r"^(https?://|www\.)[^/]+", re.I)
_TAGS = re.compile(r"\s*<[^>]*>\s*")
_PUNCTUATED = re.compile(r"^(?=(\D*\d){8})[\d./ -]+$")
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TRIVIAL = frozenset({"0", "1", "true", "false", "yes", "no", "y", "n"})


def _distinct(v: str) -> float:
    """How much one shared value says: "0" or "yes" nothing, "NL" little, "1043946570" much."""
    if v in _TRIVIAL:
        return 0.0
    if _ISO_DAY.match(v):
        return 0.5  # the dates of one record often fall on the same day (ordered, paid, shipped)
    return 1.0 if len(v) >= 5 else 0.5 if len(v) >= 3 else 0.2


def _scale(a: Profile, b: Profile) -> int:
    """10, 100 or 1000 when at least two of a's numbers are b's times (or divided by) it: cents
    vs amounts, grams vs kilograms, millimetres vs centimetres; else 0."""
    if len(a.numbers) < 2 or len(b.numbers) < 2 or a.numbers & b.numbers:
        return 0
    for k in (100, 10, 1000):
        for x, y in ((a.numbers, b.numbers), (b.numbers, a.numbers)):
            if sum(round(v * k, 6) in y for v in x) >= 2:
                return k
    return 0


def shared_values(a: Profile, b: Profile) -> tuple[float, int]:
    """(0..1, scale): how strongly the two fields hold the same values (in canonical form, or
    numbers scaled by a power of ten: then ``scale`` says by what; or one side's values inside
    the other's: then ``scale`` is 0); (0, 0) without samples."""
    if not a.n or not b.n:
        return 0.0, 0
    same = sum(_distinct(v) for v in a.values & b.values)
    if same:
        return min(1.0, same / 2), 1
    k = _scale(a, b)
    if k:
        return 0.7, k
    # one side's values inside the other's ("mr-dealer-a" holds "DEALER-A", a header text the
    # order number): evidence of the same thing written with a prefix or a template
    if (a.needles or b.needles) and a.spaced and b.spaced and (_contained(a, b) >= 2 or _contained(b, a) >= 2):
        return 0.7, 0
    return 0.0, 0


_TEXTS = frozenset({"text", "name", "html", "person", "company"})


def _kind_sim(a: str, b: str) -> float:
    if a == b:
        return 1.0
    return _NEAR.get((a, b)) or _NEAR.get((b, a)) or 0.0


def profile_similarity(a: Profile, b: Profile) -> float | None:
    """0..1 likeness of two profiles; None when either has no samples."""
    if not a.n or not b.n:
        return None
    kinds = sum(pa * pb * _kind_sim(ka, kb) for ka, pa in a.kinds.items() for kb, pb in b.kinds.items())
    norm = math.sqrt(sum(p * p for p in a.kinds.values()) * sum(p * p for p in b.kinds.values()))
    sim = min(1.0, kinds / norm) if norm else 0.0
    if a.magnitude is not None and b.magnitude is not None and not _scale(a, b):
        sim *= 0.6 + 0.4 * math.exp(-abs(a.magnitude - b.magnitude))  # a price is not a quantity
    elif a.length and b.length and max(a.kinds, key=a.kinds.__getitem__) in _TEXTS:
        sim *= 0.7 + 0.3 * min(a.length, b.length) / max(a.length, b.length)
    if a.values & b.values:
        sim = min(1.0, sim + 0.15 * len(a.values & b.values) / min(len(a.values), len(b.values)))
    return sim


_FAMILY = {"string": "text", "str": "text", "text": "text", "varchar": "text", "char": "text", "html": "text",
           "email": "text", "enum": "text", "int": "int", "integer": "int", "int64": "int", "long": "int",
           "unsignedint": "int", "isunsignedid": "int", "decimal": "num", "float": "num", "double": "num",
           "number": "num", "money": "num", "price": "num", "currency": "num", "date": "date",
           "datetime": "date", "timestamp": "date", "bool": "bool", "boolean": "bool"}
_FAMILY_SIM = {("int", "num"): 0.8, ("bool", "int"): 0.6, ("text", "int"): 0.45, ("text", "num"): 0.35,
               ("text", "date"): 0.4, ("text", "bool"): 0.4, ("int", "date"): 0.1, ("num", "date"): 0.05,
               ("num", "bool"): 0.2}


def type_similarity(a: str | None, b: str | None) -> float | None:
    """0..1 compatibility of declared types (None when either is unknown)."""
    fa = _FAMILY.get(str(a or "").lower().split(":")[0].split("(")[0])
    fb = _FAMILY.get(str(b or "").lower().split(":")[0].split("(")[0])
    if fa is None or fb is None:
        return None
    if fa == fb:
        return 1.0
    return _FAMILY_SIM.get((fa, fb)) or _FAMILY_SIM.get((fb, fa)) or 0.0
