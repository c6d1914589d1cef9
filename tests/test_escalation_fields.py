"""`auto` escalation of an extraction asks the cloud only for the fields the local run is unsure of,
keeps the sure ones as found, and goes through the same redaction, payload and ledger as any
request: against a scripted stub (to see the wire) and the real llama_cpp.server on loopback."""

from __future__ import annotations

import json

from cloud_server import Canned
from test_escalation import make_services  # noqa: F401  (the fixture: Services with the shared model parts)

from app.core.ledger import Ledger
from app.core.routing.router import run
from app.core.streams import drain
from app.core.tasks.extract import SURE

SCHEMA = {"type": "object", "properties": {
    "vendor": {"type": ["string", "null"], "description": "the company that issued the invoice"},
    "date": {"type": ["string", "null"], "format": "date", "description": "the invoice date, YYYY-MM-DD"},
    "total": {"type": ["number", "null"], "description": "the total amount due"}}}
# Two totals with the same label contest the total; the date and the vendor are clear. The contact
# line is there to be redacted on the way out.
TEXT = ("Harbour Lights Ltd\n14 Quay Street, Bristol\nContact: dana.whitfield@example.org\nDate: 2025-03-14\n"
        "Total: 120.00\nTotal: 127.20")


def extract(services):
    return drain(run(services, "extract", {"text": TEXT, "schema": SCHEMA}))


def sent_schema(body: dict) -> dict:
    return body["response_format"].get("json_schema", {}).get("schema") or body["response_format"]["schema"]


def test_only_the_uncertain_fields_are_asked_for_and_the_sure_ones_are_kept(make_services, stub_server):  # noqa: F811
    local = extract(make_services("", policy="never"))
    unsure = sorted(k for k, c in local.field_confidence.items() if c < SURE)
    assert unsure == ["total"] and local.data["vendor"] == "Harbour Lights Ltd" and local.data["date"] == "2025-03-14"

    stub = stub_server(Canned(pieces=('{"total": ', "127.2}")))
    result = extract(make_services(stub.base_url, policy="auto", threshold=1.0))
    [request] = stub.received
    body = request.json()
    assert set(sent_schema(body)["properties"]) == {"total"}  # the constrained reply holds the total only
    prompt = body["messages"][-1]["content"]
    assert '"total"' in prompt and '"vendor"' not in prompt and '"date"' not in prompt
    assert "dana.whitfield@example.org" not in request.body.decode("utf-8")  # redaction still runs

    assert result.route == "cloud" and result.valid is True
    assert result.data == {"vendor": "Harbour Lights Ltd", "date": "2025-03-14", "total": 127.2}
    assert set(result.spans) == {"vendor", "date"} and result.spans["date"] == local.spans["date"]
    assert result.field_confidence == {k: local.field_confidence[k] for k in ("vendor", "date")}
    assert result.escalation["status"] == "sent" and result.escalation["fields"] == ["total"]
    [row] = Ledger().rows()
    assert row.outcome == "sent" and json.loads(row.payload) == body


def test_a_reply_that_is_no_object_keeps_the_local_result_flagged(make_services, stub_server):  # noqa: F811
    stub = stub_server(Canned(pieces=("[127.2]",)))
    result = extract(make_services(stub.base_url, policy="auto", threshold=1.0))
    assert result.route == "local" and result.data["vendor"] == "Harbour Lights Ltd"
    assert result.escalation["status"] == "failed" and "object" in result.escalation["detail"]


def test_the_real_server_fills_only_the_uncertain_field(make_services, cloud_server):  # noqa: F811
    services = make_services(cloud_server.base_url, policy="auto", threshold=1.0)
    result = extract(services)
    assert result.escalation["status"] == "sent" and result.escalation["fields"] == ["total"]
    assert result.data["vendor"] == "Harbour Lights Ltd" and result.data["date"] == "2025-03-14"
    assert result.valid is True and set(result.data) == {"vendor", "date", "total"}  # the model's total, whatever it chose
    [row] = Ledger().rows()
    wire = json.loads(row.payload)
    assert set(sent_schema(wire)["properties"]) == {"total"} and '"vendor"' not in wire["messages"][-1]["content"]
