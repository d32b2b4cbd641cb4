"""The ``deltacloud`` command line (entry point: :func:`deltacloud_client.cli.main.main`)."""
