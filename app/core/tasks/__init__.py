"""Narrow jobs for the small model. Each streams text and returns one TaskResult."""

from app.core.tasks.result import Citation, TaskError, TaskResult

__all__ = ["Citation", "TaskError", "TaskResult"]
