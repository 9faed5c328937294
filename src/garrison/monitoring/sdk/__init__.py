"""Garrison's Python SDK: a ``Guard`` around model calls, and sinks that deliver its events.

\b
    from garrison.monitoring.sdk import Guard, HttpSink
    guard = Guard(app="support-bot", system_prompt=SYSTEM, sink=HttpSink("http://garrison:8000"))
    verdict = guard.check_input(prompt, user_id=user)
    if verdict.blocked: ...

or, for an existing client: ``garrison.monitoring.sdk.openai.monitor(client, guard)``.
"""

from garrison.monitoring.sdk.guard import CallContext, Guard, GuardBlocked, GuardVerdict
from garrison.monitoring.sdk.sinks import EventSink, HttpSink, MemorySink, StoreSink

__all__ = [
    "CallContext",
    "EventSink",
    "Guard",
    "GuardBlocked",
    "GuardVerdict",
    "HttpSink",
    "MemorySink",
    "StoreSink",
]
