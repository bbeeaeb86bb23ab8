"""casefold_events."""
