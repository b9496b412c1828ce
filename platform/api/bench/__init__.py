"""`manage.py bench api` (never imported by the runtime)."""
