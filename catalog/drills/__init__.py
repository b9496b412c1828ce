"""Drills for the catalog (run by `manage.py drill NAME`); the runtime never imports them."""
