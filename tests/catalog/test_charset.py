"""Charset from bytes: BOM, strict UTF-8 over a wrong declaration, header vs meta, late meta,
legacy encodings, detection. Corpus cases are read from ../shared when present."""
from catalog.ingest.charset import charset_from_meta, decode_html


def test_declared_gbk_but_utf8_bytes_decodes_as_utf8():
    data = '<html><head><meta charset="gbk"><title>乳白亚克力外壳</title></head></html>'.encode("utf-8")
    text, encoding = decode_html(data)
    assert encoding == "utf-8" and "乳白亚克力外壳" in text


def test_real_gb18030_bytes_use_the_declaration_even_after_a_long_head():
    body = "<html><head>" + "<script>var a=1;</script>" * 5000 + '<meta charset="gbk"><title>苹果手机 ¥5499</title></head></html>'
    data = body.encode("gb18030")
    assert len(data) > 100_000 and charset_from_meta(data) == "gb18030"
    text, encoding = decode_html(data)
    assert encoding == "gb18030" and "苹果手机" in text


def test_header_wins_over_meta_when_both_decode():
    data = '<meta charset="utf-8"><p>caf\xe9 na\xefve</p>'.encode("cp1252")  # not valid UTF-8
    text, encoding = decode_html(data, content_type="text/html; charset=ISO-8859-1")
    assert encoding == "cp1252" and "café naïve" in text


def test_wrong_header_falls_back_to_meta_then_detection():
    data = '<meta charset="windows-1252"><p>Preis 12,50 \x80</p>'.encode("latin-1")
    text, encoding = decode_html(data, content_type="text/html; charset=utf-8")
    assert encoding == "cp1252" and "12,50 €" in text
    russian = ("<p>" + "Холодильник с морозильной камерой, цена и доставка. " * 30 + "</p>").encode("cp1251")
    text, _ = decode_html(russian)
    assert "Холодильник" in text


def test_bom_and_ascii():
    assert decode_html(b"\xef\xbb\xbf<p>\xc3\xa9</p>") == ("<p>é</p>", "utf-8")
    assert decode_html(b"<p>plain</p>")[1] == "ascii"


def test_corpus_charset_traps(corpus_dir):
    pages = corpus_dir / "pages"
    gbk_declared = next(pages.glob("075_*.html")).read_bytes()
    assert decode_html(gbk_declared)[1] == "utf-8"
    tmall = next(pages.glob("076_*.html")).read_bytes()
    text, encoding = decode_html(tmall)
    assert encoding == "gb18030" and "苹果" in text
    latin = next(pages.glob("072_*.html")).read_bytes()
    text, encoding = decode_html(latin)
    assert encoding == "cp1252" and "up to £1500" in text
