"""The escalation decision: settings and a measured confidence in, a route out.

Only the user's settings and the calibrated confidence take part. Nothing a document or a model
says can reach this function, so nothing in them can send data anywhere.
"""

from __future__ import annotations

from typing import Literal

from app.core.settings import CloudSettings

Route = Literal["local", "ask", "auto"]


def decide(cloud: CloudSettings, task: str, confidence: float) -> Route:
    """"local" keeps the local result; "ask" needs the user's consent first; "auto" sends.
    A pause (the tray's toggle) keeps everything local whatever the policies say."""
    policy, threshold = cloud.for_task(task)
    if cloud.paused or policy == "never" or not cloud.base_url or confidence >= threshold:
        return "local"
    return policy
