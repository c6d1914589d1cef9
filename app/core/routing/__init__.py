"""Confidence: scores from measured signals, calibrated on labelled data; the policy that
escalates on them comes with cloud escalation."""
