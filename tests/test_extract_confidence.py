"""Extraction's field confidence is a fitted probability of the value being right, from signals that mean
the same on any document: a total the other amounts add up to beats a lone number, a subtotal or a value
cut short at a comma is less sure, so is an address that runs on past its postcode line or a name found
far down the document, and a document is as sure as the product of its fields.
Real embedder and real model (through `extract`); the shipped fit as it is."""

from __future__ import annotations

import math

from app.core.streams import drain
from app.core.tasks import extract as ex
from app.core.tasks import fields

TOTAL = {"type": "object", "properties": {"total": {"type": "string", "description": "the final amount charged, as printed"}}}
RECEIPT_SCHEMA = {"type": "object", "properties": {
    "company": {"type": "string", "description": "name of the business that issued the receipt"},
    "address": {"type": "string", "description": "the business's address, its lines joined with spaces"},
    "date": {"type": "string", "description": "the receipt date, as printed"},
    "total": {"type": "string", "description": "the final amount charged, as printed"}}}


def run(services, text, schema):
    return drain(ex.extract(services, text, schema))


def test_a_total_the_amounts_add_up_to_is_surer_than_a_lone_unlabelled_number(services):
    corroborated = run(services, "SUBTOTAL: 10.00\nTAX: 0.60\nTOTAL: 10.60\nCASH: 20.00\nCHANGE: 9.40", TOTAL)
    lone = run(services, "THANK YOU\nPLEASE COME AGAIN\n10.60", TOTAL)
    assert corroborated.data["total"] == lone.data["total"] == "10.60"
    assert corroborated.field_confidence["total"] > lone.field_confidence["total"]


def test_a_part_of_a_larger_sum_or_a_value_cut_short_is_less_sure():
    """The shipped fit's signs: a clearer lead, or a value that reads more like the field than its rival,
    raises the probability; being a subtotal, ending on a comma, running on past the postcode line or
    starting far down the document lowers it; a runner-up that is the same place cut otherwise raises it."""
    plain = {"lead": 0.5, "looks": 0.0, "part": 0.0, "cut": 0.0, "depth": 0.1, "run_on": 0.0, "same_place": 0.0}
    p = ex.field_probability("amount", plain)
    assert ex.field_probability("amount", plain | {"lead": 0.9}) > p
    assert ex.field_probability("amount", plain | {"looks": 0.3}) > p
    assert ex.field_probability("amount", plain | {"part": 1.0}) < p
    address = ex.field_probability("address", plain)
    assert ex.field_probability("address", plain | {"cut": 1.0}) < address
    assert ex.field_probability("address", plain | {"run_on": 0.5}) < address
    assert ex.field_probability("address", plain | {"same_place": 1.0}) > address
    assert ex.field_probability("org", plain | {"depth": 0.6}) < ex.field_probability("org", plain)
    # a kind the fit never saw gets the fit over all fields, with the same signs
    assert 0.0 < ex.field_probability("email", plain) < 1.0
    assert ex.field_probability("email", plain | {"run_on": 0.5}) < ex.field_probability("email", plain)


def test_the_text_gives_where_the_value_sits():
    """From the text: how far down the value starts, how many of its lines run on past its postcode line,
    whether the runner-up is the same place cut otherwise; without the text, none of that."""
    text = "KEDAI MAJU\nNO. 12, JALAN BESAR,\n43000 KAJANG, SELANGOR.\nPREPAY CHIT NUMBER\nTEL: 03-8736 1122"
    address = fields.profile("address", RECEIPT_SCHEMA["properties"]["address"])
    start, end = text.index("NO. 12"), text.index("\nTEL")
    whole = fields.Candidate(text[start:end], start, end, text[start:end], score=1.0)
    cut = fields.Candidate("", start, text.index("\nPREPAY"), "", score=0.8)
    elsewhere = fields.Candidate("TEL", end + 1, end + 4, "TEL", score=0.8)
    signals = ex.field_signals(address, [whole, cut], None, text)
    assert signals["depth"] == 0.1 and signals["run_on"] == 0.5 and signals["same_place"] == 1.0
    assert ex.field_signals(address, [whole, elsewhere], None, text)["same_place"] == 0.0
    assert ex.field_signals(address, [cut, whole], None, text)["run_on"] == 0.0  # it ends on its postcode line
    blind = ex.field_signals(address, [whole, cut], None)
    assert blind["depth"] == blind["run_on"] == 0.0


def test_an_address_that_runs_on_past_its_postcode_line_is_less_sure(services):
    head = "KEDAI MAJU ENTERPRISE\nNO. 12, JALAN BESAR,\n43000 KAJANG, SELANGOR.\n{more}TEL: 03-8736 1122\nTOTAL: 6.00"
    ended = run(services, head.format(more=""), RECEIPT_SCHEMA)
    ran_on = run(services, head.format(more="PREPAY CHIT NUMBER\n"), RECEIPT_SCHEMA)
    assert ran_on.data["address"].endswith("PREPAY CHIT NUMBER") and ended.data["address"].endswith("SELANGOR.")
    assert ran_on.field_confidence["address"] < ended.field_confidence["address"]


def test_a_name_found_far_down_the_document_is_less_sure(services):
    body = "KEDAI MAJU ENTERPRISE\nNO. 12, JALAN BESAR,\n43000 KAJANG, SELANGOR.\nTEL: 03-8736 1122\nTOTAL: 6.00"
    top = run(services, body, RECEIPT_SCHEMA)
    deep = run(services, "*** COPY ***\nTHANK YOU\nWELCOME\nMEMBER\nSLIP 22\nCASHIER 3\n" + body, RECEIPT_SCHEMA)
    assert top.data["company"] == deep.data["company"] == "KEDAI MAJU ENTERPRISE"
    assert deep.field_confidence["company"] < top.field_confidence["company"]


def test_an_address_that_ends_on_a_comma_is_less_sure_than_the_same_address_ended(services):
    head = "KEDAI MAJU ENTERPRISE\nNO. 12, JALAN BESAR,\n43000 KAJANG, SELANGOR{end}\nTEL: 03-8736 1122\nTOTAL: 6.00"
    ended, cut = run(services, head.format(end="."), RECEIPT_SCHEMA), run(services, head.format(end=","), RECEIPT_SCHEMA)
    assert ended.data["address"].endswith("SELANGOR.") and cut.data["address"].endswith("SELANGOR,")
    assert cut.field_confidence["address"] < ended.field_confidence["address"]
    assert cut.field_confidence["company"] == ended.field_confidence["company"]  # the other fields are untouched


def test_the_document_is_as_sure_as_the_product_of_its_fields(services):
    result = run(services, "KEDAI MAJU ENTERPRISE\nNO. 12, JALAN BESAR,\n43000 KAJANG, SELANGOR.\nDATE: 05/01/17\n"
                           "SUBTOTAL: 5.66\nGST: 0.34\nTOTAL: 6.00\nCASH: 10.00\nCHANGE: 4.00", RECEIPT_SCHEMA)
    assert result.valid is True
    assert all(0.0 < c < 1.0 for c in result.field_confidence.values())
    assert math.isclose(result.raw_confidence, math.prod(result.field_confidence.values()), abs_tol=1e-3)
    # the address is the hardest field to copy exactly: the same clear evidence makes it the least sure
    assert min(result.field_confidence, key=result.field_confidence.get) == "address"


def test_a_name_that_reads_like_the_field_beats_a_street_in_its_likeness(services):
    """The embedder compares the values themselves with the field: a shop's name reads like "the business
    that issued the receipt", a street line does not, whichever of them the rules ranked first."""
    company = fields.profile("company", RECEIPT_SCHEMA["properties"]["company"])
    name = fields.Candidate("KEDAI MAJU ENTERPRISE", 0, 21, "KEDAI MAJU ENTERPRISE")
    street = fields.Candidate("NO. 12, JALAN BESAR", 22, 41, "NO. 12, JALAN BESAR")
    ahead = ex.field_signals(company, [name, street], services.embedder)["looks"]
    behind = ex.field_signals(company, [street, name], services.embedder)["looks"]
    assert ahead > 0 > behind and abs(ahead + behind) < 1e-6
