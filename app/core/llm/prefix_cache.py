"""Evaluated prompt prefixes kept in RAM, so a repeated question on the same evidence starts fast.

llama-cpp-python's own LlamaRAMCache stores, with every entry, a copy of the logits buffer
(n_batch x n_vocab floats: 100 MB for a 49k vocabulary) that is never needed, because a
restored state is always re-evaluated from its last token. Saving that copy cost ~200 ms after
every generation and the copies were not counted against the capacity. Here an entry is only
the context's own state (~10 MB for 1k tokens of the default model) and its tokens.
"""

from __future__ import annotations

import ctypes
from collections import OrderedDict


def _common_prefix(a, b) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


class PrefixCache:
    """Least-recently-used states keyed by the tokens they hold. Owner thread only."""

    def __init__(self, capacity_bytes: int) -> None:
        self.capacity_bytes = capacity_bytes
        self._entries: OrderedDict[tuple[int, ...], bytes] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size_bytes(self) -> int:
        return sum(len(state) for state in self._entries.values())

    def restore(self, llm, prompt: list[int]) -> int:
        """Load the entry sharing the longest prefix with prompt, if it beats what the context
        already holds. Returns the number of prompt tokens that need no evaluation."""
        import llama_cpp

        live = _common_prefix(llm.input_ids[: llm.n_tokens].tolist(), prompt)
        best, best_len = None, live
        for tokens in self._entries:
            shared = _common_prefix(tokens, prompt)
            if shared > best_len:
                best, best_len = tokens, shared
        if best is None:
            return live
        state = self._entries[best]
        self._entries.move_to_end(best)
        buffer = (ctypes.c_uint8 * len(state)).from_buffer_copy(state)
        if llama_cpp.llama_state_set_data(llm._ctx.ctx, buffer, len(state)) != len(state):
            llm.reset()  # a state that does not fit: evaluate from scratch rather than trust it
            return 0
        llm.input_ids[: len(best)] = best
        llm.n_tokens = len(best)
        llm._requires_eval = True  # the logits are not restored; generate() re-evaluates a token
        return best_len

    def save(self, llm) -> None:
        import llama_cpp

        tokens = tuple(llm.input_ids[: llm.n_tokens].tolist())
        if not tokens:
            return
        size = llama_cpp.llama_state_get_size(llm._ctx.ctx)
        buffer = (ctypes.c_uint8 * size)()
        written = llama_cpp.llama_state_get_data(llm._ctx.ctx, buffer, size)
        self._entries.pop(tokens, None)
        self._entries[tokens] = ctypes.string_at(buffer, min(written, size))
        while self.size_bytes > self.capacity_bytes and len(self._entries) > 1:
            self._entries.popitem(last=False)
