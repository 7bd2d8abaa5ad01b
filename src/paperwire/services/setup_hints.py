"""The commands an empty site suggests, with today's dates filled in."""

from __future__ import annotations

from datetime import date, timedelta


def setup_hints(today: date) -> dict[str, str]:
    week_ago = (today - timedelta(days=6)).isoformat()
    return {
        "import": ".venv/bin/paperwire import ../shared/data/hf-daily-papers "
        "../shared/data/arxiv-cs-2025.jsonl.gz",
        "import_generic": ".venv/bin/paperwire import PATH...",
        "fetch_hf": f".venv/bin/paperwire ingest hf --since {week_ago}",
        "fetch_arxiv": f".venv/bin/paperwire ingest arxiv --category cs.CL --since {week_ago}",
        "demo": ".venv/bin/paperwire demo load",
        "demo_remove": ".venv/bin/paperwire demo remove",
        "admin": ".venv/bin/paperwire user create YOUR-NAME --email you@example.org --admin",
    }
