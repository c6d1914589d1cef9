"""A count of every task the window ran, local or sent to the cloud, for the privacy view's
chart: requests per day on each route, and what sending all of them to the cloud would have
cost. Only the task, route and token counts are kept, never text."""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from app.core import paths
from app.core.tasks.result import TaskResult

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    time REAL NOT NULL,
    task TEXT NOT NULL,
    route TEXT NOT NULL,
    tokens INTEGER NOT NULL
)
"""


@dataclass(frozen=True)
class Day:
    date: str  # YYYY-MM-DD, local time
    local: int
    cloud: int
    local_tokens: int


def default_path() -> Path:
    return paths.data_dir() / "activity.sqlite"


class Activity:
    def __init__(self, path: Path | None = None) -> None:
        self._db = sqlite3.connect(path or default_path(), check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute(_SCHEMA)

    def record(self, result: TaskResult, at: float | None = None) -> None:
        route = "cloud" if result.route == "cloud" else "local"  # "local:taught" is local too
        tokens = int(result.timings.get("tokens_in", 0)) + int(result.timings.get("tokens_out", 0))
        with self._lock:
            self._db.execute("INSERT INTO runs (time, task, route, tokens) VALUES (?, ?, ?, ?)",
                             (at or time.time(), result.task, route, tokens))

    def days(self, last: int = 14, now: float | None = None) -> list[Day]:
        """One entry per day of the last `last` days, oldest first, days without runs included."""
        now = now or time.time()
        dates = [time.strftime("%Y-%m-%d", time.localtime(now - 86400 * n)) for n in range(last - 1, -1, -1)]
        with self._lock:
            rows = self._db.execute(
                "SELECT date(time, 'unixepoch', 'localtime') AS d, SUM(route='local'), SUM(route='cloud'), "
                "SUM(CASE WHEN route='local' THEN tokens ELSE 0 END) FROM runs WHERE d >= ? GROUP BY d", (dates[0],)
            ).fetchall()
        found = {d: Day(d, int(local), int(cloud), int(tokens)) for d, local, cloud, tokens in rows}
        return [found.get(d, Day(d, 0, 0, 0)) for d in dates]

    def saved(self, price_per_1k: float) -> float:
        """What the local runs would have cost at the cloud price: the money not spent."""
        with self._lock:
            (tokens,) = self._db.execute("SELECT COALESCE(SUM(tokens), 0) FROM runs WHERE route='local'").fetchone()
        return tokens / 1000 * price_per_1k

    def close(self) -> None:
        with self._lock:
            self._db.close()
