"""Hand-written hostile PDFs: page trees with cycles and lying page counts."""

from __future__ import annotations

CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"
PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>"


def pdf(*objects: bytes) -> bytes:
    """A PDF whose objects are numbered from 1, with a correct cross-reference table."""
    out = b"%PDF-1.7\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


# /Kids points back at the tree's own root, which claims a billion pages
SELF_CYCLE = pdf(CATALOG, b"<< /Type /Pages /Kids [2 0 R] /Count 1000000000 >>")
# one real page, then the root again
PAGE_THEN_CYCLE = pdf(CATALOG, b"<< /Type /Pages /Kids [3 0 R 2 0 R] /Count 1000000000 >>", PAGE)
# a plausible count: MuPDF reads page 1, then finds the cycle at page 2
DEEP_CYCLE = pdf(
    CATALOG,
    b"<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 3 >>",
    PAGE,
    b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R] /Count 2 >>",
)
# no cycle, but a /Count nobody can believe
LYING_COUNT = pdf(CATALOG, b"<< /Type /Pages /Kids [3 0 R] /Count 1000000000 >>", PAGE)

HOSTILE = {
    "self_cycle": SELF_CYCLE,
    "page_then_cycle": PAGE_THEN_CYCLE,
    "deep_cycle": DEEP_CYCLE,
    "lying_count": LYING_COUNT,
}
