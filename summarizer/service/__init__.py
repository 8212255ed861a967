"""The HTTP service (``summarizer api``: FastAPI on uvicorn) and its workers (``summarizer worker``: arq on the
same Redis), both on top of the Python API; long briefings are split into jobs that any worker may take."""
