"""``python -m summarizer``."""

from summarizer.app.cli import main

main()
