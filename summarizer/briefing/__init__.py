"""Records in, a briefing out: one entity per actor, one line per fact with every citation, disagreements kept.
Pure, no I/O; ``render`` turns a briefing into Markdown, JSON or HTML."""
