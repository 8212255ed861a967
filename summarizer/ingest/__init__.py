"""Articles in: files, folders, JSON and text held in memory, each made into an ``Article`` by one path
(clean-up, title, truncation, id = hash of the clean text)."""
