"""trainledger services: API, domain model and CLI."""
