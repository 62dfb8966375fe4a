#!/usr/bin/env python3
"""Writes src/leadtrail/static/demo/ellie-marlow-price-list-2026.pdf: a one-page PDF (built by hand,
no dependency) that the demo site offers as a download, so file_download events can be seen."""

from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "src/leadtrail/static/demo/ellie-marlow-price-list-2026.pdf"

LINES = [
    (28, "Ellie Marlow Photography"),
    (14, "Price list 2026 - weddings, elopements and portraits"),
    (12, ""),
    (12, "Full day wedding (up to 10 hours, two photographers)      GBP 2,450"),
    (12, "Half day wedding (up to 5 hours)                          GBP 1,650"),
    (12, "Elopement or small ceremony (up to 3 hours)               GBP 950"),
    (12, "Portrait session (90 minutes, 40 edited images)           GBP 320"),
    (12, "Engagement shoot (included with a full day wedding)       GBP 0"),
    (12, ""),
    (12, "Every package: online gallery, print release, travel within 40 miles of Cirencester."),
    (12, "A 25% retainer secures your date; the balance is due one month before."),
    (12, ""),
    (12, "Ask about your date: hello@elliemarlow.example - leadtrail demo site"),
]


def escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def build() -> bytes:
    y = 780
    ops = ["BT"]
    for size, text in LINES:
        ops.append(f"/F1 {size} Tf 1 0 0 1 56 {y} Tm ({escape(text)}) Tj")
        y -= size + 12
    ops.append("ET")
    stream = "\n".join(ops).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


if __name__ == "__main__":
    OUT.write_bytes(build())
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")
