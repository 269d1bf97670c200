"""The script a user would write instead of Drawdown, to compare ingestion with.

feedparser + httpx + trafilatura + langdetect + SQLite, one page after another:
``python bench/peer_script.py BASE_URL FEEDS DATABASE`` reads BASE_URL/feed/0.xml …
and prints one JSON object: articles stored and seconds taken.
"""

import json
import sqlite3
import sys
import time

import feedparser
import httpx
import trafilatura
from langdetect import detect


def main() -> None:
    if len(sys.argv) != 4:
        sys.exit(__doc__)  # run by bench/pipeline.py, which gives it its site
    base, feeds, database = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    db = sqlite3.connect(database)
    db.execute("CREATE TABLE IF NOT EXISTS articles (url TEXT PRIMARY KEY, title, text, lang)")
    started, stored = time.perf_counter(), 0
    with httpx.Client(timeout=30) as client:
        for f in range(feeds):
            feed = feedparser.parse(client.get(f"{base}/feed/{f}.xml").content)
            for entry in feed.entries:
                page = client.get(entry.link).content
                text = trafilatura.extract(page, url=entry.link)
                if not text:
                    continue
                db.execute(
                    "INSERT OR IGNORE INTO articles VALUES (?, ?, ?, ?)",
                    (entry.link, entry.title, text, detect(text)),
                )
                stored += 1
            db.commit()
    print(json.dumps({"articles": stored, "seconds": time.perf_counter() - started}))


if __name__ == "__main__":
    main()
