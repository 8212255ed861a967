"""The ways in: the ``summarizer`` command (``cli``) and the typed Python API (``api``). Thin: they read options,
call the stages and report."""
