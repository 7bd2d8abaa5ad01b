"""Pure domain code: records and rules, no I/O."""
