from shared.documents.inspect import DocumentInfo, inspect_document
from shared.documents.sniff import DocumentType, sniff_type

__all__ = ["DocumentInfo", "DocumentType", "inspect_document", "sniff_type"]
