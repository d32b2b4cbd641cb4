"""The Deltacloud ``google`` driver: Google Cloud Storage buckets and blobs."""

from .driver import GoogleDriver

__all__ = ["GoogleDriver"]
