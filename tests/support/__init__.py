"""Helpers shared by the compatibility tests: golden data access, structural comparison, raw ASGI calls."""
