"""Labelled cases, run through Hearth's tasks and scored: the data behind calibration and the eval harness."""
