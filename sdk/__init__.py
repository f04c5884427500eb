"""Python client for the Sluis API: query results as pandas DataFrames."""

from sdk.client import SluisAPIError, SluisClient, to_frame

__all__ = ["SluisAPIError", "SluisClient", "to_frame"]
