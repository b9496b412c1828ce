"""Benchmarks of the shot stage (`manage.py bench shots`) and what only they use. The runtime
never imports this package."""
