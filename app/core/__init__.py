"""Services shared by the GUI and the CLI. Never imports Qt (import-linter enforces it)."""
