"""LLM writer against a local server speaking the OpenAI chat-completions protocol."""
import json
import time

import pytest

from generation.scripts import ScriptError, check_claims, write_script
from generation.scripts.llm import LLMSettings, repair_json

from tests.fakes import LocalJSONServer

from .conftest import SAMPLE_PRODUCT

GOOD = {
    "hook": {"voice_line": "Meet the Gothamite rolling duffle.", "on_screen_text": "Meet Gothamite",
             "shot": {"kind": "lifestyle", "prompt": "duffle bag at an ice rink"}, "facts": ["title"]},
    "scenes": [
        {"voice_line": "It measures 36 x 17 x 15 inches.", "on_screen_text": "36 x 17 x 15 in",
         "shot": {"kind": "detail", "prompt": "bag interior"}, "facts": ["features[0]"]},
        {"voice_line": "Rated 4.2 out of 5 from 471 reviews.", "on_screen_text": "4.2★ (471)",
         "shot": {"kind": "lifestyle", "prompt": "happy traveller"}, "facts": ["rating", "review_count"]},
        {"voice_line": "Now only $87.11.", "on_screen_text": "$87.11",
         "shot": {"kind": "product", "prompt": "bag on white"}, "facts": ["price"]}],
    "cta": {"voice_line": "Tap to shop.", "on_screen_text": "Shop now",
            "shot": {"kind": "product", "prompt": "bag hero"}, "facts": []},
}


class FakeChatServer(LocalJSONServer):
    """Replies from a queue: (status, content-or-body, delay_s). Records every request."""

    def __init__(self):
        self.replies = []
        super().__init__(self._respond)

    def _respond(self, body: dict) -> tuple[int, str, bytes]:
        status, content, delay = self.replies.pop(0) if self.replies else (500, "empty queue", 0)
        time.sleep(delay)
        if status == 200:
            payload = {"id": "c1", "object": "chat.completion", "model": body["model"],
                       "choices": [{"index": 0, "finish_reason": "stop",
                                    "message": {"role": "assistant", "content": content}}]}
        else:
            payload = {"error": {"message": content}}
        return status, "application/json", json.dumps(payload).encode()


@pytest.fixture
def server():
    s = FakeChatServer()
    yield s
    s.httpd.shutdown()


def _settings(server, **kw):
    return LLMSettings(base_url=server.url, model="test-model", api_key="sk-test", backoff_s=0.01, **kw)


def test_structured_reply_becomes_grounded_spoken_script(server):
    server.replies.append((200, json.dumps(GOOD), 0))
    script = write_script(SAMPLE_PRODUCT, framework="social_proof", language="en", duration=15, backend="llm",
                          llm=_settings(server))
    req = server.requests[0]
    assert req["path"] == "/v1/chat/completions" and req["auth"] == "Bearer sk-test"
    assert req["body"]["response_format"]["type"] == "json_schema"
    assert "87.11" in req["body"]["messages"][1]["content"]  # facts are sent
    assert script.backend == "llm" and len(script.scenes) == 3
    voice = " ".join(s.voice_line for s in script.segments())
    assert "eighty-seven eleven" in voice and "four point two" in voice and "$" not in voice
    assert "$87.11" in script.scenes[2].on_screen_text
    assert check_claims(script, SAMPLE_PRODUCT) == []


def test_malformed_reply_is_repaired_locally(server):
    fenced = "Sure! Here it is:\n```json\n" + json.dumps(GOOD, indent=1).replace("}\n]", "},\n]") + "\n```"
    server.replies.append((200, fenced, 0))
    script = write_script(SAMPLE_PRODUCT, framework="feature_tour", language="en", duration=15, backend="llm",
                          llm=_settings(server))
    assert len(server.requests) == 1 and script.hook.voice_line.startswith("Meet")


def test_invalid_reply_is_sent_back_with_the_error(server):
    server.replies += [(200, json.dumps({"hook": GOOD["hook"]}), 0), (200, json.dumps(GOOD), 0)]
    script = write_script(SAMPLE_PRODUCT, framework="feature_tour", language="en", duration=15, backend="llm",
                          llm=_settings(server))
    assert len(server.requests) == 2
    assert "not valid" in server.requests[1]["body"]["messages"][-1]["content"]
    assert any("malformed" in n for n in script.notes)


def test_server_errors_are_retried(server):
    server.replies += [(503, "overloaded", 0), (429, "slow down", 0), (200, json.dumps(GOOD), 0)]
    script = write_script(SAMPLE_PRODUCT, framework="feature_tour", language="en", duration=15, backend="llm",
                          llm=_settings(server))
    assert len(server.requests) == 3 and script.scenes


def test_timeouts_give_a_clear_error_in_bounded_time(server):
    server.replies += [(200, json.dumps(GOOD), 1.0)] * 3
    start = time.monotonic()
    with pytest.raises(ScriptError, match="failed after 2 attempts"):
        write_script(SAMPLE_PRODUCT, framework="feature_tour", language="en", duration=15, backend="llm",
                     llm=_settings(server, timeout_s=0.2, max_retries=1))
    assert time.monotonic() - start < 3


def test_json_schema_refusal_falls_back_to_json_object(server):
    server.replies += [(400, "response_format json_schema is not supported", 0), (200, json.dumps(GOOD), 0)]
    write_script(SAMPLE_PRODUCT, framework="feature_tour", language="en", duration=15, backend="llm",
                 llm=_settings(server))
    assert server.requests[1]["body"]["response_format"] == {"type": "json_object"}


def test_ungrounded_llm_claims_are_removed(server):
    bad = json.loads(json.dumps(GOOD))
    bad["scenes"].append({"voice_line": "The number one best seller, with a 20 hour battery.",
                          "on_screen_text": "#1 Best Seller", "shot": {"kind": "product", "prompt": "x"}, "facts": []})
    server.replies.append((200, json.dumps(bad), 0))
    script = write_script(SAMPLE_PRODUCT, framework="feature_tour", language="en", duration=20, backend="llm",
                          llm=_settings(server))
    assert check_claims(script, SAMPLE_PRODUCT) == []
    assert all("best seller" not in s.voice_line.lower() for s in script.segments())
    assert any(n.startswith("removed scene") for n in script.notes)


def test_unreachable_server_and_missing_settings():
    with pytest.raises(ScriptError, match="failed after"):
        write_script(SAMPLE_PRODUCT, framework="feature_tour", language="en", duration=15, backend="llm",
                     llm=LLMSettings(base_url="http://127.0.0.1:9/v1", model="m", timeout_s=0.5, max_retries=1,
                                     backoff_s=0.01))
    with pytest.raises(ScriptError, match="GENERATION_LLM_BASE_URL"):
        write_script(SAMPLE_PRODUCT, framework="feature_tour", language="en", duration=15, backend="llm")


def test_repair_json_handles_common_breakage():
    assert repair_json('```json\n{"a": [1, 2,],}\n```') == {"a": [1, 2]}
    assert repair_json('Here: {\u201ca\u201d: 1} thanks') == {"a": 1}
    with pytest.raises(ValueError):
        repair_json("no json here")


def test_chinese_reply_is_spoken_in_chinese(server):
    zh = {"hook": {"voice_line": "认识Gothamite滚轮行李袋。", "on_screen_text": "Gothamite", "shot": {"kind": "product",
                                                                                             "prompt": "bag"}},
          "scenes": [{"voice_line": "买家评分4.2分，来自471条评价。", "on_screen_text": "4.2分",
                      "shot": {"kind": "lifestyle", "prompt": "traveller"}, "facts": ["rating", "review_count"]}],
          "cta": {"voice_line": "现在只要$87.11，点击购买。", "on_screen_text": "$87.11",
                  "shot": {"kind": "unknown-kind", "prompt": "bag"}}}
    server.replies.append((200, json.dumps(zh, ensure_ascii=False), 0))
    script = write_script(SAMPLE_PRODUCT, framework="social_proof", language="zh", duration=10, backend="llm",
                          llm=_settings(server))
    assert script.scenes[0].voice_line == "买家评分四点二分，来自四百七十一条评价。"
    assert "八十七点一一美元" in script.cta.voice_line and script.cta.shot.kind == "product"
    assert check_claims(script, SAMPLE_PRODUCT) == []
