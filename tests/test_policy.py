"""The decision itself: only the policy, the threshold and the confidence matter."""

import pytest

from app.core.routing.policy import decide
from app.core.settings import CloudSettings, TaskCloudPolicy

URL = "https://llm.example.com/v1"


@pytest.mark.parametrize(("policy", "confidence", "route"), [
    ("never", 0.0, "local"), ("auto", 0.49, "auto"), ("auto", 0.5, "local"), ("ask", 0.1, "ask"), ("ask", 0.9, "local"),
])
def test_the_route_follows_policy_and_threshold(policy, confidence, route):
    assert decide(CloudSettings(policy=policy, threshold=0.5, base_url=URL), "ask", confidence) == route


def test_no_provider_means_no_escalation_whatever_the_policy():
    assert decide(CloudSettings(policy="auto", threshold=0.9), "ask", 0.0) == "local"


def test_a_task_override_wins_over_the_general_policy():
    cloud = CloudSettings(policy="auto", threshold=0.5, base_url=URL, tasks={"classify": TaskCloudPolicy(policy="never")})
    assert decide(cloud, "classify", 0.0) == "local" and decide(cloud, "extract", 0.0) == "auto"
