"""Real PostgreSQL and Kafka on this machine without Docker, and the whole system behind one command."""

from casefold_local.errors import InfraError
from casefold_local.kafka import KafkaServer
from casefold_local.postgres import PostgresServer

__all__ = ["InfraError", "KafkaServer", "PostgresServer"]
