"""The loopback OpenAI-compatible server: answers from recordings, with latency and injected faults. A test double
and a tool (``summarizer serve``); production reaches it only through ``replay.endpoint``."""
