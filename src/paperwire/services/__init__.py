"""Use cases that own transactions: ingest, search, feeds, accounts, digests."""
