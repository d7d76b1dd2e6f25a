"""Domain model: events, aggregates and reference data."""
