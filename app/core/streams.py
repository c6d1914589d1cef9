"""Core jobs stream with plain generators whose return value is the final result."""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import TypeVar

Y = TypeVar("Y")
R = TypeVar("R")


def drain(stream: Generator[Y, None, R], each: Callable[[Y], object] | None = None) -> R:
    """Run a stream to its end, handing each item to `each`; return the stream's result."""
    while True:
        try:
            item = next(stream)
        except StopIteration as done:
            return done.value
        if each is not None:
            each(item)
