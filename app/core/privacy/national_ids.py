"""National identity, social security and tax numbers (kind ID), checked by `python-stdnum`.

A number is an ID in either of two ways:
- written in a format only that ID has, with its check digits right (stdnum's `is_valid`): a US
  SSN "536-90-4399", a Spanish DNI "54362315-K", an Italian codice fiscale, a Finnish HETU, a
  Swedish personnummer, a French NIR, a Chinese resident ID... No word is needed around it.
- right after a word that names an ID ("SSN", "passport no.", "BSN", "Steuer-ID", "national
  insurance number"), whatever its check digits say: the text says what it is, a passport number
  has none, and "SSN: 078-05-1120" is an advertised number stdnum rejects but a form still holds.
  A plain run of digits needs such a word: nine digits pass some 11-test one time in eleven.
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Iterator

from app.core.privacy.spans import JOINED, Span

# (stdnum modules, the format, any case): a match is an ID when one of the modules holds it valid,
# or by its format alone where stdnum has no module: the UK's National Insurance number, by HMRC's
# rules for its prefix letters, in capitals as it is written; the UK driving licence number, by the
# DVLA's layout (surname padded with 9s, birth decade, month (+50 for women), day, year, initials,
# a digit, two check characters).
_FORMATS = (
    ((), r"(?-i:(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D])"),
    ((), r"[A-Z][A-Z9]{4}\d(?:[05][1-9]|[16][0-2])(?:0[1-9]|[12]\d|3[01])\d[A-Z9]{2}\d[A-Z\d]{2}"),
    (("us.ssn", "us.itin"), r"\d{3}([- ])\d{2}\1\d{4}"),
    (("ca.sin",), r"\d{3}-\d{3}-\d{3}"),
    (("fr.nir",), r"[12] ?\d{2} ?\d{2} ?(?:\d{2}|2[AB]) ?\d{3} ?\d{3} ?\d{2}"),
    (("es.dni",), r"\d{8}-?[A-Z]"),
    (("es.nie",), r"[XYZ]-?\d{7}-?[A-Z]"),
    (("it.codicefiscale",), r"[A-Z]{6}[\dLMNP-V]{2}[A-EHLMPR-T][\dLMNP-V]{2}[A-Z][\dLMNP-V]{3}[A-Z]"),
    (("be.nn",), r"\d{2}([. ])\d{2}\1\d{2}[- ]\d{3}\1\d{2}"),
    (("se.personnummer", "dk.cpr"), r"(?:19|20)?\d{6}[-+]\d{4}"),
    (("no.fodselsnummer",), r"\d{6}[ -]\d{5}"),
    (("fi.hetu",), r"\d{6}[-+A-FU-Y]\d{3}[\dA-Y]"),
    (("in_.aadhaar",), r"[2-9]\d{3}([ -])\d{4}\1\d{4}"),
    (("in_.pan",), r"[A-Z]{3}[ABCFGHJLPT][A-Z]\d{4}[A-Z]"),
    (("br.cpf",), r"\d{3}\.\d{3}\.\d{3}-\d{2}"),
    (("cn.ric",), r"\d{17}[\dX]"),
    (("mx.curp",), r"[A-Z]{4}\d{6}[HMX][A-Z]{5}[\dA-Z]\d"),
    (("kr.rrn",), r"\d{6}-\d{7}"),
    (("ch.ssn",), r"756\.\d{4}\.\d{4}\.\d{2}"),
    # Long runs of digits with two check digits, or a date and one: about one random number in a hundred
    # passes (a PESEL's date and one digit let one in sixteen of site-packages' 11-digit numbers through).
    (("tr.tckimlik",), r"\d{11}"),
    (("za.idnr", "kr.rrn"), r"\d{13}"),
)
# Not a piece of a longer number: an IBAN's or a card's groups hold an Aadhaar's "9311 5212 3456".
# A Chinese, Japanese or Korean letter may follow ("M78912345입니다").
_EDGE_BEFORE, _EDGE_AFTER = r"(?<![\w.+/-])(?<!\d )", rf"(?!{JOINED}|[_-]|[.+-]\w| \d)"
# A format that starts with a digit is tried after a digit only: the look-behinds tried after every
# letter of a text would double the scan's time.
_DIGIT_FIRST = re.compile(r"\\d|\[\d|\d|\(\?:\d")
_FORMAT = [(modules, re.compile(("(?=\\d)" if _DIGIT_FIRST.match(shape) else "") + _EDGE_BEFORE + f"(?:{shape})" + _EDGE_AFTER, re.I))
           for modules, shape in _FORMATS]

# Words that name an ID, in the languages of the formats above. Acronyms that are also words
# ("sin", "pan", "tin", "nie") count in capitals only.
_LATIN = (
    r"(?i:social[ -]security(?:[ -]n(?:o|umber))?|ssn|itin|tax(?:payer)?[ -]id(?:entification)?(?:[ -]number)?"
    r"|national[ -](?:insurance|id(?:entity)?|identification)(?:[ -](?:number|no|card))?|nino|ni[ -](?:number|no)|nhs(?:[ -]number)?"
    r"|social[ -]insurance(?:[ -]number)?|tax[ -]file[ -]number|tfn|passport(?:[ -](?:number|no))?|id[ -]card(?:[ -]number)?"
    r"|identity[ -](?:card|number)|id[ -]n(?:o|umber)|driver'?s?[ -]licen[cs]e(?:[ -](?:number|no))?|licen[cs]e[ -]number"
    r"|steuer-?id|steuer-?identifikationsnummer|identifikationsnummer|idnr|personalausweis(?:nummer)?|reisepass(?:nummer)?|pass-?nr"
    r"|sozialversicherungsnummer|ahv(?:-nummer)?|num[ée]ro de s[ée]curit[ée] sociale|carte d'identit[ée]|passeport"
    r"|codice fiscale|n[úu]mero de identidad|pasaporte|bsn|burgerservicenummer|sofinummer|pesel|aadhaar"
    r"|personnummer|f[øo]dselsnummer|cpr(?:-nummer)?|henkil[öo]tunnus|hetu|cpf|curp|resident registration number"
    r"|ppsn?(?: number)?)"
    r"|SIN|PAN|TIN|NIE|NIR|NIF|DNI|AVS|RRN|RIC"
)
_WORD = rf"(?:(?<![\w-])(?:{_LATIN})(?![\w-])|身份证(?:号码?)?|マイナンバー|주민등록번호|여권(?:번호)?|운전면허(?:번호)?)"
# After the word: "no.", "number", "#", "is", a colon...; then the number, in groups of capitals
# and digits ("QQ 12 34 56 C", "X-1234567-L", "C01X00T47"), holding at least three digits.
_FILLER = r"(?:\s*(?i:n(?:o|r|um|°|º)\.?|number|nummer|num[ée]ro|n[úu]mero|#|is|was|to|of|es|est|ist|är|er|è|\.|:|=|-|\(|号码|番号|번호|는|은))*\s*[:#=]?\s*"
_GROUP = r"[A-Z\d]+"
_NAMED = re.compile(rf"{_WORD}{_FILLER}(?P<v>(?:[A-Z]{{1,3}} )?{_GROUP}(?:[ ./-]{_GROUP})*)" + _EDGE_AFTER)
_MIN_DIGITS = 3  # "passport photo 2" names no number; passport numbers hold six or more characters
_MIN_LENGTH = 6


@functools.cache
def _module(name: str):
    return importlib.import_module(f"stdnum.{name}")


def national_ids(text: str) -> Iterator[Span]:
    for modules, pattern in _FORMAT:
        for m in pattern.finditer(text):
            if not modules or any(_module(name).is_valid(m.group()) for name in modules):
                yield Span("ID", m.start(), m.end(), m.group())
    for m in _NAMED.finditer(text):
        value = _trim(m.group("v"))
        if sum(c.isdigit() for c in value) >= _MIN_DIGITS and sum(c.isalnum() for c in value) >= _MIN_LENGTH:
            yield Span("ID", m.start("v"), m.start("v") + len(value), value)


def _trim(value: str) -> str:
    # A trailing group of capitals is the number's own check letter only when short ("56 C"), not a word ("AND").
    head, _, tail = value.rpartition(" ")
    return head if head and tail.isalpha() and len(tail) > 1 else value
