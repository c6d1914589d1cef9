"""Extract on documents whose values carry no helpful label: the issuer's name and address from the
header, the total from the amounts that add up to it; greetings and titles are no company.
Real embedder and real model (through `extract`), no mocks."""

from __future__ import annotations

from app.core.streams import drain
from app.core.tasks import detectors
from app.core.tasks.extract import extract, load_schema

RECEIPT_SCHEMA = {"type": "object", "properties": {
    "company": {"type": "string", "description": "name of the business that issued the receipt"},
    "address": {"type": "string", "description": "the business's address, its lines joined with spaces"},
    "total": {"type": "string", "description": "the final amount charged, as printed"}}}

# The layout of scanned receipts: a brand line, the company with its registration, a registration
# line, the address, contact lines; a labelled cashier; the total before and after rounding, the
# payment and its change, and a tax summary whose own "TOTAL" row comes last.
RECEIPT = ("KOPI DAUN\nDAUN TRADING SDN BHD\nCOMPANY NO: 000123456-K\nLOT 7, JALAN MERAH 3,\nTAMAN SERI INDAH\n"
           "47100 PUCHONG, SELANGOR\nTEL: 03-8061 2233\nTAX INVOICE\nCASHIER: JAMALUDDIN\nDATE: 03 JUN 18\n"
           "NASI LEMAK\n2\n9.00\nTEH TARIK\n2\n5.24\nSUBTOTAL\n14.24\nGST 6%\n0.85\nTOTAL:\n15.09\nROUNDING:\n0.01\n"
           "NET TOTAL:\n15.10\nCASH\n20.00\nCHANGE\n4.90\nGST SUMMARY\nAMOUNT\nTAX\nTOTAL\n14.24\n0.85")


def run(services, text, schema):
    return drain(extract(services, text, schema))


def test_the_header_gives_the_company_and_the_whole_address(services):
    result = run(services, RECEIPT, RECEIPT_SCHEMA)
    assert result.data["company"] == "DAUN TRADING SDN BHD"  # the legal name, not the brand line above it
    assert result.data["address"] == "LOT 7, JALAN MERAH 3, TAMAN SERI INDAH 47100 PUCHONG, SELANGOR"
    assert result.spans["address"]["text"] == "LOT 7, JALAN MERAH 3,\nTAMAN SERI INDAH\n47100 PUCHONG, SELANGOR"


def test_a_labelled_id_or_cashier_is_neither_the_company_nor_the_address(services):
    """The name has no legal form and the labels nearest the fields are "COMPANY NO" and "CASHIER":
    the header's own lines still win, and the address is the whole run, not its postcode line."""
    text = ("KEDAI RUNCIT AMAN\nCOMPANY NO: 000200101-A\nLOT PT 12, JALAN KLANG LAMA, SEK. 9\n40000 SHAH ALAM, SELANGOR\n"
            "SITE: 1164\nTELEPHONE: 03-5191 1239\nCASHIER: JAMALUDDIN\nDATE: 23/03/17\nTOTAL\n30.00")
    result = run(services, text, RECEIPT_SCHEMA)
    assert result.data["company"] == "KEDAI RUNCIT AMAN"
    assert result.data["address"] == "LOT PT 12, JALAN KLANG LAMA, SEK. 9 40000 SHAH ALAM, SELANGOR"


def test_a_scans_space_before_a_comma_is_not_kept_in_the_address(services):
    text = ("DAUN TRADING SDN BHD\nNO 5 , JALAN BATU 30 ,\nTAMAN MAJU .\n47100 PUCHONG , SELANGOR\nTEL: 03-8061 2233\n"
            "TOTAL\n15.10")
    result = run(services, text, RECEIPT_SCHEMA)
    assert result.data["address"] == "NO 5, JALAN BATU 30, TAMAN MAJU. 47100 PUCHONG, SELANGOR"
    assert result.spans["address"]["text"].startswith("NO 5 , JALAN")  # the span still points at the scan as it is


def test_the_total_is_the_amount_the_others_add_up_to(services):
    """15.09 is labelled TOTAL and the summary's 14.24 comes last, but 15.10 is what was charged:
    15.09 + 0.01 rounding, and 20.00 paid - 4.90 change."""
    result = run(services, RECEIPT, RECEIPT_SCHEMA)
    assert result.data["total"] == "15.10"


def test_greetings_mail_lines_and_document_titles_are_not_the_vendor(services):
    schema = load_schema("invoice")
    titled = run(services, "Invoice INV-2291\nHarbour Lights\n14 Quay Street, Bristol\nDate: 2026-03-04\nTotal due: EUR 118.50",
                 schema)
    assert titled.data["vendor"] == "Harbour Lights" and titled.data["invoice_number"] == "INV-2291"
    greeted = run(services, "Hi Sam,\nBrightwater Studio\n22 Mill Lane, Leeds\nAmount due: EUR 42.00", schema)
    assert greeted.data["vendor"] == "Brightwater Studio" and greeted.data["total"] == 42.0
    forwarded = run(services, "---------- Forwarded message ---------\nCedar Cloud Hosting\nPlan: Business\nTotal charged: USD 1,188.00",
                    schema)
    assert forwarded.data["vendor"] == "Cedar Cloud Hosting"


def test_a_date_is_not_an_amount(services):
    """07.04 inside 07.04.2025 is no price: the German total is found, after the line item."""
    text = "RECHNUNG / INVOICE\nMüller Haustechnik GmbH\nDatum: 07.04.2025\nHeizungswartung 1 x 189,00 €\nGesamtbetrag: 224,91 €"
    result = run(services, text, load_schema("invoice"))
    assert result.data["total"] == 224.91 and result.data["date"] == "2025-04-07" and result.data["vendor"] == "Müller Haustechnik GmbH"


def test_receipt_dates_with_month_names_and_short_years():
    found = detectors.short_dates("PRINTED 03 JUN 18 03:07 PM, VOID 05/APR/2018")
    assert [(m.text, m.value) for m in found] == [("03 JUN 18", "2018-06-03"), ("05/APR/2018", "2018-04-05")]
    assert detectors.dates("03 JUN 18") == []  # the redaction detector does not widen
    assert [m.text for m in detectors.short_dates("due 5 Jan 2025")] == []  # dates() already reads it


def test_a_clear_field_is_more_confident_than_a_contested_one(services):
    """Two labelled totals contest the field; one leads clearly when the other is gone. A document
    is all right only if every field is: two contested fields make it less sure than one does (the
    product of the fields' confidences, not the least of them)."""
    schema = {"type": "object", "properties": {"total": {"type": "number", "description": "the total amount due"},
                                               "date": {"type": "string", "format": "date", "description": "the invoice date"}}}
    clear = run(services, "Date: 2025-03-14\nItems: 3\nTotal: 127.20", schema)
    one = run(services, "Date: 2025-03-14\nTotal: 120.00\nTotal: 127.20", schema)
    two = run(services, "Date: 2025-03-14\nTotal: 120.00\nTotal: 127.20\nInvoice date: 2025-03-12", schema)
    assert clear.field_confidence["total"] > one.field_confidence["total"]
    assert clear.raw_confidence > one.raw_confidence
    assert two.field_confidence["total"] == one.field_confidence["total"] < two.field_confidence["date"] < one.field_confidence["date"]
    assert two.raw_confidence < one.raw_confidence  # the least sure field is the same in both
