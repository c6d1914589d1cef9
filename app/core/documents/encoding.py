"""Bytes to text. UTF-8 (with or without BOM) and UTF-16/32 with a BOM are read as such; anything
else goes to charset-normalizer. Binary data and bytes whose encoding cannot be told are reported,
never decoded into garbage. Line breaks come back as "\\n" only, so line numbers count the way
editors count them."""

from __future__ import annotations

import codecs
import re
import unicodedata
from pathlib import Path

from charset_normalizer import from_bytes

from app.core.documents.model import DocumentError

BINARY = "binary content, not text"
UNKNOWN = "not valid text: encoding could not be determined"

# UTF-32 first: its little-endian BOM begins with the UTF-16 one.
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))

# Controls that real text does contain: tab, line breaks, form feed, and ESC from coloured logs.
_CONTROL = re.compile(r"[\x01-\x08\x0e-\x1a\x1c-\x1f\x7f-\x9f]")
_MAX_CONTROL_SHARE = 0.01

# Left alone, charset-normalizer often ranks a Baltic or Central European code page above cp1252
# for French or Swedish text (très -> trčs), or drops cp1252 from short texts altogether. cp1252 is
# the Windows default for Western text (and what latin-1 files really are), so it is tried first.
_WESTERN = "cp1252"
# Without a BOM and with no NUL bytes these would only ever be a misreading.
_WIDE = ["utf_16", "utf_16_be", "utf_16_le", "utf_32", "utf_32_be", "utf_32_le"]

# Accented letters of the Latin-script languages that legacy code pages serve. A decoding whose
# accented letters no one language uses together (Děkuji read as Dìkuji) is a wrong guess.
_ALPHABETS = tuple(set(letters) for letters in (
    "àáâäçèéêëíîïñóôöúûüœæ",  # English with French, German and Spanish loanwords
    "àâæçéèêëîïôœùûüÿ",  # French
    "äöüßéè",  # German
    "áàéèíïñóòúüç",  # Spanish, Catalan
    "àáâãçéêíóôõú",  # Portuguese
    "àèéìíîòóùú",  # Italian
    "áäéèëïóöü",  # Dutch
    "åäöæøé",  # Swedish, Danish, Norwegian
    "áðéíóúýþæö",  # Icelandic, Faroese
    "äöåšžõü",  # Finnish, Estonian
    "áčďéěíňóřšťúůýž",  # Czech
    "áäčďéíĺľňóôŕšťúýž",  # Slovak
    "ąćęłńóśźż",  # Polish
    "áéíóöőúüű",  # Hungarian
    "čćđšž",  # Croatian, Serbian, Slovene, Bosnian
    "ăâîșşțţ",  # Romanian
    "ąčęėįšųūžāēģīķļņ",  # Lithuanian, Latvian
    "çğıöşüâî",  # Turkish
))
# Scripts written without spaces mix with Latin inside one "word" legitimately (Pythonのコード).
_UNSPACED = {"CJK", "HIRAGANA", "KATAKANA", "HANGUL", "IDEOGRAPHIC", "HALFWIDTH", "FULLWIDTH"}
_WORD = re.compile(r"[^\W\d_]+")


def read_text(path: Path) -> str:
    """The file's text with "\\n" line breaks; DocumentError when it is binary or undecidable."""
    text = _decode(path.read_bytes())
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _decode(raw: bytes) -> str:
    for bom, codec in _BOMS:
        if raw.startswith(bom):
            try:
                return _refuse_binary(raw.decode(codec))
            except UnicodeDecodeError as exc:
                raise DocumentError(f"not valid {codec.removesuffix('-sig').upper()} text despite its byte-order mark "
                                    f"(byte {exc.start})") from exc
    if b"\x00" in raw:  # no text encoding without a BOM puts NUL bytes in real text
        raise DocumentError(BINARY)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = _decode_legacy(raw)
    return _refuse_binary(text)


def _refuse_binary(text: str) -> str:
    if len(_CONTROL.findall(text)) > _MAX_CONTROL_SHARE * len(text):
        raise DocumentError(BINARY)
    return text


def _decode_legacy(raw: bytes) -> str:
    western = from_bytes(raw, cp_isolation=[_WESTERN]).best()  # None when cp1252 reads as a mess
    if western is not None and _reads_as_language(str(western)):
        return str(western)
    ranked = [m for m in from_bytes(raw, cp_exclusion=_WIDE) if _reads_as_language(str(m))]
    if not ranked:
        raise DocumentError(UNKNOWN)
    top = ranked[0]
    # Short texts often fit several code pages equally well; a guess would be garbage half the time.
    if any(str(m) != str(top) for m in ranked if (m.chaos, m.coherence) == (top.chaos, top.coherence)):
        raise DocumentError(UNKNOWN)
    return str(top)


def _reads_as_language(text: str) -> bool:
    """No word mixes alphabets (café read as cafщ), and the accented Latin letters fit one language."""
    for word in set(_WORD.findall(text)):
        if len({_script(c) for c in word} - _UNSPACED) > 1:
            return False
    accented = {c for c in set(text.lower()) if c.isalpha() and not c.isascii() and _script(c) == "LATIN"}
    return not accented or any(accented <= alphabet for alphabet in _ALPHABETS)


def _script(char: str) -> str:
    return "LATIN" if char.isascii() else re.split("[ -]", unicodedata.name(char, "?"))[0]
