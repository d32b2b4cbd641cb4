"""Buckets and blobs through the GCS XML API, for HMAC keys: the interoperability API the
original driver used, which speaks S3 (SigV4 signatures made with the HMAC secret).

It is the ec2 plugin's S3 code (:class:`deltacloud_ec2.s3.S3Mixin`: multipart uploads for big
bodies, ranged downloads, continuation of listings) pointed at the XML endpoint
(``https://storage.googleapis.com``, path-style), signed for region ``auto`` as Google asks. A
bucket is created where ``location`` says, else where the key's project puts new buckets.
"""

from __future__ import annotations

from typing import Any, ClassVar

from deltacloud_ec2.driver import EucalyptusDriver

from deltacloud_core.models import Bucket

__all__ = ["XML_REGION", "XmlStorage", "xml_provider"]

#: The region V4 signatures name for Cloud Storage.
XML_REGION = "auto"


def xml_provider(endpoint: str) -> str:
    """The ec2 driver's provider form for an XML API endpoint."""
    return f"s3={endpoint};region={XML_REGION}"


class XmlStorage(EucalyptusDriver):
    """The S3 half of the ec2 driver on the XML API; only buckets and blobs are used."""

    DEFAULT_REGION: ClassVar[str] = XML_REGION

    def create_bucket(self, *, name: str, location: str | None = None, **extra: str) -> Bucket:
        kwargs: dict[str, Any] = {"Bucket": name}
        if location and location.strip():
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": location.strip()}
        self.s3.create_bucket(**kwargs)
        return Bucket(id=name, name=name, size=0, blob_ids=(), extra={"location": location or None})
