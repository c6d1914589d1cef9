"""Hearth: a privacy-first desktop assistant built on a small local model."""

__version__ = "0.1.0"
