"""Benchmarks: each figure beside a baseline measured in the same run on the same servers (`make bench`)."""
