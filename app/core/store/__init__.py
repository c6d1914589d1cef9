"""Where chunks and their vectors live: a Chroma store and a SQLite catalog beside it."""

DEFAULT_COLLECTION = "default"
