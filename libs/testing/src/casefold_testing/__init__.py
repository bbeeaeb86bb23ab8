"""Pytest plugin for Casefold: real PostgreSQL and Kafka for every package's tests.

Fixtures (see plugin.py): postgres_admin_dsn, kafka_bootstrap (session); database (a fresh database per test
module); topic_factory / kafka_topic (unique topic names per test).
"""
