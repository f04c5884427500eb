"""Python client for the Sluis API."""
