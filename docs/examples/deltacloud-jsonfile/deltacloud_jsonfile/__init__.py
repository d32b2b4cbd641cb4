"""A Deltacloud driver for a cloud kept in a JSON file (``deltacloud_jsonfile.driver``)."""

__version__ = "0.1.0"
