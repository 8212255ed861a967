"""Articles in: text files, JSON, saved web pages, folders and text held in memory, each made into an ``Article``
by one path (clean-up of invisible characters and page furniture, title, truncation, id = hash of the clean text)."""
