"""Operations tooling: backup, restore, scheduler, SQLite migration, seed data."""
