"""The one error the local tooling raises: a single actionable line for the person at the terminal."""


class InfraError(RuntimeError):
    """A local server could not be installed, started or stopped; the message says what to do."""
