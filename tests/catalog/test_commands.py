"""`extract_product --jsonl` and `bench scrape` on the shared corpus (offline)."""
import io
import json

from django.core.management import call_command

from catalog.ingest.extract import FACT_KEYS


def test_extract_product_jsonl(corpus_dir, tmp_path):
    files = sorted((corpus_dir / "pages").glob("*.html"))[10:12]
    out = io.StringIO()
    call_command("extract_product", "--jsonl", *map(str, files), stdout=out)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(rows) == 2 and list(rows[0]) == ["file", *FACT_KEYS]
    assert rows[0]["title"] and rows[0]["currency"] and rows[0]["images"][0].startswith("http")


def test_bench_scores_fields_against_the_manifest(corpus_dir, tmp_path):
    from catalog.bench import scrape as bench
    manifest = json.loads((corpus_dir / "manifest.json").read_text())[:6]
    (tmp_path / "pages").mkdir()
    for entry in manifest:
        (tmp_path / entry["file"]).write_bytes((corpus_dir / entry["file"]).read_bytes())
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    out = io.StringIO()
    result = bench.run(["--corpus", str(tmp_path)], out)
    assert result["pages"] == 6 and 0 <= result["overall"] <= 1 and result["pages_per_s"] > 0
    assert set(result["baseline_extruct"]) == {"fields", "overall", "pages_per_s", "pages_per_cpu_s"}
    assert "title" in out.getvalue() and result["fields"]["title"] >= result["baseline_extruct"]["fields"]["title"]


def test_a_ground_truth_correction_applies_only_while_the_page_proves_it():
    from catalog.bench.adjudications import ADJUDICATIONS, adjudicate
    from catalog.bench.scrape import score_page
    fix = ADJUDICATIONS[0]
    entry = {"file": f"pages/{fix.page}", "expected": {fix.field: fix.manifest, "title": "Bench top"}}
    facts = {fix.field: fix.value, "title": "Bench top"}
    page = b"<html><body><h1>Bench top</h1>" + fix.evidence.encode() + b"</body></html>"

    corrected, applied = adjudicate(entry, page)
    assert corrected["expected"][fix.field] == fix.value and applied[0]["why"] == fix.why
    assert score_page(corrected, facts)[fix.field] and not score_page(entry, facts)[fix.field]
    assert entry["expected"][fix.field] == fix.manifest  # the manifest entry itself is untouched

    # the evidence is not on the page: the manifest stands
    assert adjudicate(entry, b"<html><body><h1>Bench top</h1></body></html>") == (entry, [])
    # the manifest was fixed to something else: the correction drops out
    fixed = {**entry, "expected": {**entry["expected"], fix.field: "1.00"}}
    assert adjudicate(fixed, page) == (fixed, [])
    # another page with the same evidence is not corrected
    other = {**entry, "file": "pages/000_other.html"}
    assert adjudicate(other, page) == (other, [])


def test_bench_reports_the_manifest_figures_and_the_adjudicated_ones_side_by_side(corpus_dir, tmp_path):
    from catalog.bench import scrape as bench
    from catalog.bench.adjudications import ADJUDICATIONS
    manifest = [e for e in json.loads((corpus_dir / "manifest.json").read_text())
                if e["file"].endswith(ADJUDICATIONS[0].page)]
    if not manifest:
        import pytest
        pytest.skip("the corrected page is not in this corpus")
    (tmp_path / "pages").mkdir()
    (tmp_path / manifest[0]["file"]).write_bytes((corpus_dir / manifest[0]["file"]).read_bytes())
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    result = bench.run(["--corpus", str(tmp_path)], io.StringIO())
    assert result["fields"]["price"] == 0.0  # the manifest as shipped: "no price"
    assert result["fields_adjudicated"]["price"] == 1.0  # the buy box's $165.95
    assert [c["page"] for c in result["ground_truth_corrections"]] == [ADJUDICATIONS[0].page]
