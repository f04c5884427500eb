"""Sluis gateway: the API, CLI, policy client, query engine, release workflow and audit log."""
