"""The Deltacloud ``azure`` driver: Azure Blob Storage containers and blobs as buckets.

Installed, it registers the driver id ``azure`` (entry point group ``deltacloud.drivers``).
"""

from .driver import AzureDriver

__version__ = "0.1.0"

__all__ = ["AzureDriver", "__version__"]
