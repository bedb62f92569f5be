"""``python -m crawler < job.json``: one crawl, JSON lines out (see :mod:`crawler.jsonl`)."""
from .jsonl import main

main()
