"""Tests of the operations tools (backup, restore, scheduler, SQLite migration, seed)."""
