"""search adapters."""
