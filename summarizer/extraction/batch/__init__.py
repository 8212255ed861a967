"""The OpenAI Batch API for bulk runs: the jobs and their state files (``jobs``), and submitting, following and
collecting them into the cache (``service``)."""
