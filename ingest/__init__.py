"""Intake and outlet: FIT decoding, the watched folder, the intake worker and the outbox relay."""
