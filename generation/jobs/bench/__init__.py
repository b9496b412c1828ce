"""Benchmarks of whole jobs (`manage.py bench truth`, `manage.py bench throughput`). The runtime
never imports this package."""
