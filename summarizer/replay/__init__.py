"""The loopback OpenAI-compatible server: answers from recordings, with latency, injected faults and the quirks
of local servers. A test double and a tool (``summarizer serve``); production reaches it only through
``replay.endpoint``."""
