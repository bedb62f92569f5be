"""Bytes → text for Chinese bureau pages.

Bureau sites declare charsets loosely: GBK pages labelled gb2312, UTF-8 pages
labelled gbk by a template, no label at all. The order is header, then
``<meta>``, then detection, with two guards:

* GBK and GB2312 are decoded as GB18030, its superset; Python's gb2312 codec
  turns characters such as ╳ or 镕 into errors.
* A label is trusted only when the bytes decode under it strictly. Bytes that
  are valid UTF-8 with multi-byte sequences are UTF-8 whatever the label says:
  GB18030 accepts nearly any byte string, so trying it first on UTF-8 bytes
  "succeeds" with mojibake.
"""
from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.I)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_\-]+)", re.I)
_XML_DECL = re.compile(rb"""^<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_\-]+)""", re.I)

_ALIASES = {
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "gb_2312-80": "gb18030",
    "cp936": "gb18030", "euc-cn": "gb18030", "hz-gb-2312": "gb18030", "csgb2312": "gb18030",
    "big5": "big5hkscs", "utf8": "utf-8", "unicode": "utf-8",
}
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    encoding: str
    declared: str | None  # what the page or server claimed, for diagnostics


def normal_encoding(label: str | None) -> str | None:
    """The codec to use for a declared label, or None when Python knows no such codec."""
    if not label:
        return None
    name = label.strip().lower()
    name = _ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name if name not in _ALIASES.values() else name
    except LookupError:
        return None


def declared_encodings(body: bytes, content_type: str | None) -> list[str]:
    """Labels in the order the brief trusts them: HTTP header, then <meta>/XML declaration."""
    found: list[str] = []
    if content_type:
        m = _HEADER_CHARSET.search(content_type)
        if m:
            found.append(m.group(1))
    head = body[:4096]
    for rx in (_XML_DECL, _META_CHARSET):
        declared = rx.search(head)
        if declared:
            found.append(declared.group(1).decode("ascii", "ignore"))
    return found


def _strict(body: bytes, encoding: str) -> str | None:
    try:
        return body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


_SINGLE_BYTE = re.compile(r"^(?:iso8859|latin|cp125|windows-125|ascii|us-ascii|cp437|mac)", re.I)


def _mostly_cjk(text: str) -> bool:
    high = [c for c in text if ord(c) > 0x7F]
    cjk = sum(1 for c in high if "\u4e00" <= c <= "\u9fff" or "\u3000" <= c <= "\u303f" or "\uff00" <= c <= "\uffef")
    return bool(high) and cjk >= 0.6 * len(high)


def _is_multibyte_utf8(body: bytes) -> bool:
    return not body.isascii() and _strict(body, "utf-8") is not None


def decode_body(body: bytes, content_type: str | None = None) -> Decoded:
    """Decode a page; never raises, never guesses a label over bytes that contradict it."""
    for bom, enc in _BOMS:
        if body.startswith(bom):
            return Decoded(body.decode(enc, "replace"), enc, enc)
    labels = declared_encodings(body, content_type)
    declared = labels[0] if labels else None
    utf8_valid = _is_multibyte_utf8(body)
    for label in labels:
        normal = normal_encoding(label)
        if normal is None:
            continue
        enc = normal
        if enc != "utf-8" and utf8_valid:
            continue  # a template's wrong label: the bytes are UTF-8
        if _SINGLE_BYTE.match(enc):
            # servers label Chinese pages iso-8859-1 by default; a single-byte
            # codec decodes any bytes, so it is trusted only if GB18030 makes no sense
            gb = _strict(body, "gb18030")
            if gb is not None and _mostly_cjk(gb):
                return Decoded(gb, "gb18030", declared)
        text = _strict(body, enc)
        if text is not None:
            return Decoded(text, enc, declared)
    for enc in ("utf-8", "gb18030"):
        text = _strict(body, enc)
        if text is not None:
            return Decoded(text, enc, declared)
    return _detected(body, declared)


def _detected(body: bytes, declared: str | None) -> Decoded:
    from charset_normalizer import from_bytes  # imported lazily: rarely needed

    best = from_bytes(body).best()
    if best is not None:
        enc = normal_encoding(best.encoding) or "utf-8"
        return Decoded(body.decode(enc, "replace"), enc, declared)
    return Decoded(body.decode("gb18030", "replace"), "gb18030", declared)
