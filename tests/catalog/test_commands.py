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
