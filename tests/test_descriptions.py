"""The user's label descriptions as the CLI and the window take them."""

import pytest

from app.core.tasks.descriptions import parse_descriptions, parse_labels
from app.core.tasks.result import TaskError


def test_entries_in_either_form_gather_per_label_in_order():
    got = parse_descriptions(["billing=charges and refunds", "  billing: fees = what we charge ", "", "tech: crashes"])
    assert got == {"billing": ["charges and refunds", "fees = what we charge"], "tech": ["crashes"]}


@pytest.mark.parametrize("entry", ["billing", "billing=", ": no label", "  =  "])
def test_an_entry_without_label_or_text_is_refused_by_quoting_it(entry):
    with pytest.raises(TaskError, match="has no label and description"):
        parse_descriptions([entry])


def test_labels_are_trimmed_and_blanks_dropped():
    assert parse_labels(" billing , ,bug,  feature request,") == ["billing", "bug", "feature request"]
    assert parse_labels("") == []
