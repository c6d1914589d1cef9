"""National identity, social security and tax numbers (kind ID, #14): by a format with valid check
digits alone, or by any number right after a word that names an ID; and the numbers that stay.

The values are written for these tests, none is one of tests/data/redaction.jsonl's cases."""

from __future__ import annotations

import pytest

from app.core.privacy.national_ids import national_ids
from app.core.privacy.redaction import Redactor, find, restore


def ids(text: str) -> list[str]:
    return [s.value for s in find(text) if s.kind == "ID"]


@pytest.mark.parametrize("text, value", [
    ("employee 212-38-4417 joined in May", "212-38-4417"),  # US SSN
    ("ref 12345678-Z en el expediente", "12345678-Z"),  # Spanish DNI: Z is 12345678's letter
    ("titular Y-1234567-X, Valencia", "Y-1234567-X"),  # Spanish NIE
    ("filed under ACUPA7085R last year", "ACUPA7085R"),  # Indian PAN
    ("uid 2341 2341 2346 on the form", "2341 2341 2346"),  # Aadhaar (Verhoeff check digit)
    ("AHV 756.1234.5678.97", "756.1234.5678.97"),  # Swiss social security
    ("borger 211062-5629 i Aarhus", "211062-5629"),  # Danish CPR
    ("Rijksregister 85.07.30-033.28", "85.07.30-033.28"),  # Belgian national number
    ("nummer 151086 95088 staat", "151086 95088"),  # Norwegian fødselsnummer
    ("持有人 11010519491231002X 已登记", "11010519491231002X"),  # Chinese resident ID
    ("assuré 2 95 10 99 126 111 93, caisse de Paris", "2 95 10 99 126 111 93"),  # French NIR
    ("solicitante BOXW310820HNERXN09", "BOXW310820HNERXN09"),  # Mexican CURP
    ("vatandaş 10000000146 kayıtlı", "10000000146"),  # Turkish T.C. kimlik no (two check digits)
    ("applicant 7503305044089 approved", "7503305044089"),  # South African ID (birth date and Luhn)
    ("uid 2341-2341-2346 on the form", "2341-2341-2346"),  # Aadhaar, dashed
    ("licence MORGA753116SM9IJ on file", "MORGA753116SM9IJ"),  # UK driving licence, by the DVLA's layout
])
def test_a_number_in_a_format_only_that_id_has_needs_no_word(text, value):
    assert ids(text) == [value]


@pytest.mark.parametrize("text", [
    "ref 12345678-A en el expediente",  # the DNI's letter is wrong
    "uid 4065 7365 9421 on the form",  # Aadhaar's check digit is wrong
    "key 110105194912310020 in the table",  # the resident ID's check character is wrong
    "range 000-12-3456 and 666-12-3456",  # no SSN has area 000 or 666
    "seed 10000000147 for the run",  # eleven digits, the kimlik's check digits wrong
    "code MORGA753116SM9I",  # a driving licence's layout one character short
])
def test_the_same_format_with_wrong_check_digits_stays(text):
    assert ids(text) == []


@pytest.mark.parametrize("text, value", [
    ("passport number: X1234567, issued in Lyon", "X1234567"),  # passport numbers have no check digit
    ("SSN: 078-05-1120 (from the old wallet card)", "078-05-1120"),  # one stdnum rejects, a form still holds
    ("Her BSN is 111222333.", "111222333"),
    ("Reisepass Nr. C01X00T47 liegt vor", "C01X00T47"),
    ("tax ID #98-7654321 for the invoice", "98-7654321"),
    ("PESEL 44051401458 w aktach", "44051401458"),
    ("주민등록번호 900101-1234567", "900101-1234567"),
    ("Refugee ID number 0001015002288 is on file.", "0001015002288"),
    ("Mi pasaporte es AAA123456", "AAA123456"),
    ("IdNr. 98765432106 liegt vor.", "98765432106"),
    ("여권번호는 M78912345입니다", "M78912345"),
])
def test_any_number_right_after_a_word_that_names_an_id(text, value):
    assert ids(text) == [value]


@pytest.mark.parametrize("text", [
    "Bring a passport photo 2 days ahead.",  # no number of six characters
    "The TIN and SSN fields are optional.",  # words, no number
    "a pan of 250 grams and the sin of 1234567 rounding errors",  # words that are also acronyms, in lower case
    "doi 10.1137/10081232X in the references",  # a DOI's tail
    "Order 2024-117-3345 shipped; build 20240301-1522 passed",
    "meeting ID 845 2231 9087",  # "ID" alone names no person's number
    "CNRI LICENSE AGREEMENT FOR PYTHON 1.6.1",  # nor does "licence" alone
])
def test_numbers_that_name_no_person_stay(text):
    assert ids(text) == []


def test_an_iban_or_a_card_keeps_its_own_kind_over_the_groups_inside_it():
    text = "IBAN DE89 3704 0044 0532 0130 00, card 4111 1111 1111 1111"
    assert [s.kind for s in find(text)] == ["IBAN", "CARD"]
    assert list(national_ids("4111 1111 1111 1111")) == []  # a card's groups are no Aadhaar


def test_spellings_of_one_number_share_a_placeholder():
    r = Redactor().redact(["SSN 212-38-4417 on file", "call about SSN 212 38 4417"])
    assert r.texts == ["SSN [ID_1] on file", "call about SSN [ID_1]"]
    assert r.counts == {"ID": 1}


def test_a_reply_naming_the_placeholder_gets_the_number_back():
    r = Redactor().redact(["Steuer-ID 86095742719 bitte prüfen"])
    [(placeholder, original)] = r.mapping.items()
    assert placeholder == "[ID_1]" and original == "86095742719"
    assert restore("Die Nummer [ID_1] ist gültig; ID_1 auch.", r.mapping) == "Die Nummer 86095742719 ist gültig; 86095742719 auch."
