"""Decoding real GBK bytes: header, then <meta>, then detection; wrong labels never give mojibake."""
from __future__ import annotations

import pytest

from extractors import extract_facts
from extractors.decode import decode_body

TEXT = "淄博市2025年度灵活就业人员缴费基数下限为4416元，缴费基数╳费率＋长护4元。镕"
PAGE = f"<html><head><meta charset='{{}}'><title>淄博医保</title></head><body><p>{TEXT}</p></body></html>"


@pytest.mark.parametrize("label", ["gbk", "gb2312", "GB2312", "x-gbk", "cp936"])
def test_gbk_family_decodes_as_gb18030(label):
    raw = PAGE.format(label).encode("gb18030")
    decoded = decode_body(raw, None)
    assert TEXT in decoded.text
    assert decoded.encoding == "gb18030"


def test_python_gb2312_codec_would_fail_on_these_characters():
    with pytest.raises(UnicodeEncodeError):
        TEXT.encode("gb2312")


@pytest.mark.parametrize("header, meta", [
    ("text/html; charset=utf-8", "utf-8"),  # both lie: the bytes are GBK
    ("text/html", "utf-8"),
    ("text/html; charset=iso-8859-1", "iso-8859-1"),
    (None, "nonsense-charset"),
])
def test_wrongly_declared_gbk_is_still_read(header, meta):
    raw = PAGE.format(meta).encode("gb18030")
    assert TEXT in decode_body(raw, header).text


def test_utf8_page_labelled_gbk_is_read_as_utf8():
    raw = PAGE.format("gbk").encode("utf-8")
    decoded = decode_body(raw, "text/html; charset=gb2312")
    assert TEXT in decoded.text and decoded.encoding == "utf-8"


def test_undeclared_gbk_is_detected():
    raw = f"<html><body><p>{TEXT}</p></body></html>".encode("gb18030")
    assert TEXT in decode_body(raw, "text/html").text


def test_facts_from_gbk_bytes():
    facts = extract_facts(PAGE.format("gbk").encode("gb18030"), content_type="text/html")
    assert any(f.metric == "base_min" and f.value == 4416 for f in facts)
    assert any(f.metric == "surcharge" and f.value == 4 for f in facts)
