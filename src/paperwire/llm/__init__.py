"""Clients for optional language-model endpoints (OpenAI-compatible chat completions)."""
