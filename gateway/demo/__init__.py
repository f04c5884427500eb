"""Demo data and helpers for trying Sluis without real partner data."""
