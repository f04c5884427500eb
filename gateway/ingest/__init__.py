"""Gateway-side plumbing around ``connectors``: ingest workspaces and the pipeline adapter."""
