"""SQL migrations of the intake schema (applied after the platform's base migrations)."""
