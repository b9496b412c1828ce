"""`/api/docs/errors`: the page every problem document's `type` links to."""
from __future__ import annotations

from django.http import HttpResponse
from django.utils.html import escape

from .errors import ERROR_CODES


def error_codes(request) -> HttpResponse:
    rows = "".join(
        f'<tr id="{escape(code)}"><td><code>{escape(code)}</code></td><td>{spec.status}</td>'
        f"<td>{escape(spec.title)}</td><td>{escape(spec.meaning)}</td></tr>"
        for code, spec in ERROR_CODES.items())
    html = ("<!doctype html><html><head><meta charset='utf-8'><title>AdFactory API error codes</title></head>"
            "<body><h1>API error codes</h1><p>Errors are RFC 9457 <code>application/problem+json</code> "
            "documents; branch on <code>code</code>.</p><table border='1' cellpadding='4'>"
            "<tr><th>code</th><th>status</th><th>title</th><th>meaning</th></tr>"
            f"{rows}</table><p><a href='/api/docs/'>API reference</a></p></body></html>")
    return HttpResponse(html)
