"""Benchmarks (`manage.py bench NAME`); the runtime never imports this package."""
