"""The Deltacloud EC2 driver plugin: ``ec2`` (Amazon) and ``eucalyptus`` (any EC2/S3-compatible cloud).

Installed, it adds both to ``/api/drivers``; select one per request with ``/api;driver=ec2``
or ``X-Deltacloud-Driver: ec2``, or as the server default with ``deltacloudd -i ec2``.
"""

from .driver import EC2Driver, EucalyptusDriver

__all__ = ["EC2Driver", "EucalyptusDriver"]
