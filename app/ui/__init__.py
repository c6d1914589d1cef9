"""The desktop front end: windows and workers over app.core services."""
