"""Benchmarks of whole jobs (`manage.py bench truth`). The runtime never imports this package.
(`bench_throughput` still lives beside it as ``generation/jobs/bench_throughput.py``.)"""
