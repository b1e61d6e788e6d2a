"""Object storage behind one small interface: the local filesystem (the default) or S3."""

from shared.storage.base import ObjectNotFound, Storage, StorageError, StorageUnavailable
from shared.storage.factory import make_storage

__all__ = ["ObjectNotFound", "Storage", "StorageError", "StorageUnavailable", "make_storage"]
