"""mail adapters."""
