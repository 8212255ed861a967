"""One record per article: the prompt and schema sent to an OpenAI-compatible endpoint through instructor, the
answer validated and re-asked, transport faults retried, every answer cached. The only package that imports
openai and instructor."""
