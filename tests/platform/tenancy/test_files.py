"""#10.2: outputs are reachable only by their workspace — short-lived signed links that cannot
be edited, replayed after expiry or minted for another workspace's files."""
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core import signing
from django.test import Client

from tenancy.files import SignedFileError, signed_file_url, signed_file_verify

pytestmark = pytest.mark.django_db


@pytest.fixture
def stored(two_workspaces):
    out = {}
    for name, data in two_workspaces.items():
        rel = f"workspaces/{data['workspace'].pk}/jobs/7/video.mp4"
        path = Path(settings.MEDIA_ROOT) / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f"video of {name}".encode())
        out[name] = rel
    return out


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_signed_link_serves_the_file_without_a_session(two_workspaces, stored):
    url = signed_file_url(workspace=two_workspaces["a"]["workspace"], relpath=stored["a"], ttl_s=60)
    assert url.startswith("/files/")
    response = Client().get(url)
    assert response.status_code == 200
    assert _body(response) == b"video of a"
    assert response["Referrer-Policy"] == "no-referrer" and "attachment" in response["Content-Disposition"]


def test_edited_or_foreign_tokens_are_404(two_workspaces, stored):
    a, b = two_workspaces["a"]["workspace"], two_workspaces["b"]["workspace"]
    token = signed_file_url(workspace=a, relpath=stored["a"], ttl_s=60).removeprefix("/files/")
    client = Client()
    flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    assert client.get(f"/files/{flipped}").status_code == 404
    # Same payload, signed without our salt (e.g. another feature's signature): refused.
    forged = signing.dumps({"w": a.pk, "p": stored["b"], "e": int(time.time()) + 60}, compress=True)
    assert client.get(f"/files/{forged}").status_code == 404
    # Correctly signed but naming B's file under A's workspace id: refused before any read.
    with pytest.raises(ValueError):
        signed_file_url(workspace=a, relpath=stored["b"], ttl_s=60)
    with pytest.raises(ValueError):
        signed_file_url(workspace=a, relpath=f"workspaces/{a.pk}/../{b.pk}/jobs/7/video.mp4", ttl_s=60)
    with pytest.raises(ValueError):
        signed_file_url(workspace=a, relpath="/etc/passwd", ttl_s=60)


def test_links_expire(two_workspaces, stored):
    url = signed_file_url(workspace=two_workspaces["a"]["workspace"], relpath=stored["a"], ttl_s=1)
    token = url.removeprefix("/files/")
    assert signed_file_verify(token=token).relpath == stored["a"]
    with pytest.raises(SignedFileError):
        signed_file_verify(token=token, now=time.time() + 2)
    time.sleep(1.05)
    assert Client().get(url).status_code == 404
    with pytest.raises(ValueError):
        signed_file_url(workspace=two_workspaces["a"]["workspace"], relpath=stored["a"], ttl_s=10 * 24 * 3600)


def test_html_is_never_rendered_inline(two_workspaces):
    ws = two_workspaces["a"]["workspace"]
    rel = f"workspaces/{ws.pk}/uploads/page.html"
    path = Path(settings.MEDIA_ROOT) / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("<script>alert(1)</script>")
    response = Client().get(signed_file_url(workspace=ws, relpath=rel, ttl_s=60))
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_one_link_mechanism_for_files_and_video_outputs_kinds_do_not_cross(two_workspaces, stored):
    """The API's video download links are signed and checked by the same code as /files/
    links, with their own kind: a token of one kind opens nothing of the other, and a video
    link names its workspace, so an id of another workspace's job is not found through it."""
    from generation.jobs.models import VideoJob
    from tenancy.context import tenant_context
    from tenancy.files import link_sign, link_verify

    a, b = two_workspaces["a"], two_workspaces["b"]
    with tenant_context(b["workspace"]):
        job_b = VideoJob.objects.create(workspace=b["workspace"], brand=b["brand"], product_url="https://x.example/p",
                                        status="succeeded", outputs={"video": stored["b"]})
    client = Client()
    file_token = signed_file_url(workspace=a["workspace"], relpath=stored["a"], ttl_s=60).removeprefix("/files/")
    assert client.get(f"/files/{file_token}").status_code == 200
    assert client.get(f"/api/v1/files/{file_token}").status_code == 404  # a file link is not a video link
    later = int(time.time()) + 60
    video_token = link_sign(kind="video", workspace_id=b["workspace"].pk, expires_at=later, j=job_b.pk, n="video")
    assert client.get(f"/files/{video_token}").status_code == 404  # nor the other way round
    assert _body(client.get(f"/api/v1/files/{video_token}")) == b"video of b"
    forged = link_sign(kind="video", workspace_id=a["workspace"].pk, expires_at=later, j=job_b.pk, n="video")
    assert client.get(f"/api/v1/files/{forged}").status_code == 404  # B's job is not in A's workspace
    with pytest.raises(SignedFileError):
        link_verify(token=video_token, kind="video", now=later + 1)


def test_links_are_deterministic_and_old_timestamped_links_still_verify():
    """The same claims give the same token (a video's ETag holds between polls); a token of the
    earlier timestamped format verifies until its expiry; edits and the other kind are refused."""
    from tenancy.files import LINK_SALTS, link_sign, link_verify

    later = int(time.time()) + 60
    first = link_sign(kind="video", workspace_id=3, expires_at=later, j=7, n="video")
    time.sleep(1.1)  # the old tokens changed every second
    assert link_sign(kind="video", workspace_id=3, expires_at=later, j=7, n="video") == first
    assert link_verify(token=first, kind="video") == {"j": 7, "n": "video", "w": 3, "e": later}
    old = signing.dumps({"j": 7, "n": "video", "w": 3, "e": later}, salt=LINK_SALTS["video"], compress=True)
    assert old.count(":") == 2 and link_verify(token=old, kind="video")["j"] == 7
    for bad in (first[:-2] + ("A" if first[-1] != "A" else "B") + first[-1], old[:-1] + "x", "a:b", "nothing"):
        with pytest.raises(SignedFileError):
            link_verify(token=bad, kind="video")
    with pytest.raises(SignedFileError):
        link_verify(token=first, kind="file")
    with pytest.raises(SignedFileError):
        link_verify(token=first, kind="video", now=later)
