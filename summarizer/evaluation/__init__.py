"""Scores extractions against gold annotations: per-field precision, recall and F1, figure errors, quotes found,
cost; and the CI gate that compares a run with a saved baseline."""
