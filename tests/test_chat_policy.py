"""The local API's chat is a task of its own in the settings: its policy can differ from the general one."""

from __future__ import annotations

from app.core import settings
from app.core.routing.policy import decide
from conftest import run_cli


def test_chat_follows_its_own_policy_set_through_the_cli():
    assert run_cli("cloud", "configure", "--base-url", "http://127.0.0.1:9/v1", "--model", "m").returncode == 0
    assert run_cli("cloud", "policy", "auto").returncode == 0
    done = run_cli("cloud", "policy", "never", "--task", "chat")
    assert done.returncode == 0, done.stderr
    cloud = settings.load().cloud
    assert decide(cloud, "chat", 0.0) == "local", "chat's own never wins over the general auto"
    assert decide(cloud, "ask", 0.0) == "auto"
