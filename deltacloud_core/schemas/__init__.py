"""marshmallow dump schemas: a model -> a JSON object or an xmltodict tree (see docs/architecture.md)."""
