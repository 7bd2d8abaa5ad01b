"""HTTP: HTML pages, the JSON API and feeds."""
