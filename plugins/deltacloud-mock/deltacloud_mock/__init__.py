"""Deltacloud's mock driver: a fake cloud kept in a local SQLite store.

The driver class is ``deltacloud_mock.driver:MockDriver`` (entry point ``mock`` of the
``deltacloud.drivers`` group); the store is :mod:`deltacloud_mock.store`.
"""

__version__ = "0.1.0"
