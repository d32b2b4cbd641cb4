"""One module per collection; each registers itself through ``deltacloud_register_collections``."""

from .base import (
    ALL_FORMATS,
    Collection,
    CollectionRegistry,
    Operation,
    OperationCall,
    Outcome,
    Param,
    Resource,
    UploadedFile,
    destroy_handler,
    index_handler,
    needs,
    show_handler,
)

__all__ = ["ALL_FORMATS", "Collection", "CollectionRegistry", "Operation", "OperationCall", "Outcome", "Param",
           "Resource", "UploadedFile", "destroy_handler", "index_handler", "needs", "show_handler"]
