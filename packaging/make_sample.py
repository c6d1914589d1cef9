"""Write resources/sample/hearth-sample.pdf, the document `hearth --selftest` ingests and asks about.

Three short pages on unrelated subjects, so that a citation naming the wrong page is a real
failure of parsing, chunking, embedding or retrieval. The self-test's question is answered on
page 2 only (app/selftest.py holds it). Run from the checkout: .venv/bin/python packaging/make_sample.py
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from pdfgen import write_pdf  # noqa: E402 - the tests' own minimal PDF writer

SAMPLE = ROOT / "resources" / "sample" / "hearth-sample.pdf"
PAGES = [
    "Harbour office notice. The harbour office opens at eight in the morning and closes at four in the "
    "afternoon. Fishing permits are sold at the front desk and must be shown on request. Boats longer "
    "than twelve metres moor at the outer pier.",
    "Lighthouse keeping. The lamp of the Brannock lighthouse is cleaned every Tuesday with warm vinegar "
    "and a soft linen cloth. The keeper records the cleaning in the red logbook kept beside the stairs. "
    "The spare lamp is stored in the oil room.",
    "Ferry timetable. The ferry to Skerry Island leaves the north quay at nine and at three, every day "
    "except Sunday. Tickets cost four pounds for adults and two pounds for children, paid on board.",
]

if __name__ == "__main__":
    SAMPLE.parent.mkdir(parents=True, exist_ok=True)
    print(write_pdf(SAMPLE, PAGES))
