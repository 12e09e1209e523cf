"""The QR code a document prints so that the applicant can follow the matter: an inline SVG.

The SVG is text inside the document (no image file to fetch when it is printed or archived),
sized by the print CSS (`.qr svg`) through its `viewBox`, and the same URL always gives the
same bytes, so a reprint hashes the same. `segno` is pure Python and has no dependencies.
"""

from __future__ import annotations

from functools import lru_cache

import segno
from markupsafe import Markup

TITLE = "扫码查询办理进度"


@lru_cache(maxsize=1024)
def qr_svg(url: str) -> Markup:
    """An inline `<svg>` QR code of `url` (error correction M or better, a 2-module quiet zone).

    Returned as Markup: the document layout prints it as is, and only this engine code may
    produce markup that templates do not escape.
    """
    if not url or not url.strip():
        raise ValueError("a QR code needs a non-empty URL")
    code = segno.make(url.strip(), error="m", micro=False)
    svg = code.svg_inline(omitsize=True, border=2, title=TITLE, svgclass="qr-code", lineclass=None)
    # role and a label so that a screen reader announces the code rather than skipping it.
    return Markup(svg.replace("<svg ", '<svg role="img" aria-label="%s" ' % TITLE, 1))
