"""Ledger: a small bookkeeping service (users, ledgers, entries, balances) on PostgreSQL."""
