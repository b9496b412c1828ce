"""The load generator of `bench api`, run as its own process:
``python -m api.bench.load '{"base": ..., "key": ..., ...}'`` prints one JSON line.

Phase 1 (create): open loop at ``rate`` req/s for ``warmup_seconds`` then ``seconds``
(latencies of the warm-up, while fresh gunicorn workers open their connections and fill their
caches, are reported apart as ``warmup_*``; its requests count for errors, duplicates and
CPU like any other); every request has a fresh
Idempotency-Key, ``retry_share`` of them are sent again after they answer (a client retry)
and ``race_share`` are fired twice at the same instant (concurrent duplicates).
Phase 2 (status): ``clients`` threads GET video ids in a closed loop for ``status_seconds``.
Keep-alive connections (http.client), one per thread."""
from __future__ import annotations

import http.client
import json
import queue
import sys
import threading
import time
import uuid
from urllib.parse import urlsplit


class Client:
    def __init__(self, base: str, key: str):
        parts = urlsplit(base)
        self.host, self.port, self.key = parts.hostname, parts.port, key
        self.conn = None

    def request(self, method: str, path: str, body: dict | None = None, headers: dict | None = None):
        data = json.dumps(body).encode() if body is not None else None
        hdrs = {"Authorization": f"Bearer {self.key}", "Content-Type": "application/json", **(headers or {})}
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            try:
                self.conn.request(method, path, body=data, headers=hdrs)
                response = self.conn.getresponse()
                payload = response.read()
                if response.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return response.status, payload
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        raise RuntimeError("unreachable")


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def create_phase(cfg: dict) -> dict:
    jobs: queue.Queue = queue.Queue()
    lock = threading.Lock()
    latencies, warm_latencies, errors, accepted, video_ids = [], [], [], {}, []
    body = {"product_url": cfg["product_url"]}

    def send(client: Client, key: str, warm: bool) -> tuple[int, dict]:
        started = time.perf_counter()
        try:
            status, payload = client.request("POST", "/api/v1/videos", body, {"Idempotency-Key": key})
        except OSError as exc:
            with lock:
                errors.append(f"conn:{type(exc).__name__}")
            return 0, {}
        elapsed = (time.perf_counter() - started) * 1000
        data = json.loads(payload or b"{}")
        with lock:
            (warm_latencies if warm else latencies).append(elapsed)
            if status == 202:
                accepted.setdefault(key, set()).add(data["request_id"])
                video_ids.extend(v["id"] for v in data["videos"])
            elif status != 409:  # 409 = the concurrent twin is still running: expected
                errors.append(str(status))
        return status, data

    def worker():
        client = Client(cfg["base"], cfg["key"])
        while True:
            item = jobs.get()
            if item is None:
                return
            key, mode, barrier, warm = item
            if mode == "race":
                barrier.wait()
            send(client, key, warm)
            if mode == "retry":
                send(client, key, warm)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(cfg["create_clients"])]
    for t in threads:
        t.start()
    warmup = int(cfg["rate"] * cfg.get("warmup_seconds", 0))
    total = warmup + int(cfg["rate"] * cfg["seconds"])
    start = time.perf_counter()
    for i in range(total):
        warm = i < warmup
        target = start + i / cfg["rate"]
        delay = target - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        key = f"bench-{uuid.uuid4().hex}"
        if i % int(1 / cfg["race_share"]) == 0:
            barrier = threading.Barrier(2)
            jobs.put((key, "race", barrier, warm))
            jobs.put((key, "race", barrier, warm))
        elif i % int(1 / cfg["retry_share"]) == 1:
            jobs.put((key, "retry", None, warm))
        else:
            jobs.put((key, "once", None, warm))
    for _ in threads:
        jobs.put(None)
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    return {"create_requests": len(latencies), "create_rate": round(total / wall, 1),
            "create_p50_ms": round(percentile(latencies, 50), 1), "create_p99_ms": round(percentile(latencies, 99), 1),
            "warmup_requests": len(warm_latencies), "warmup_p99_ms": round(percentile(warm_latencies, 99), 1),
            "create_errors": len(errors), "create_error_kinds": sorted(set(errors))[:10],
            "keys_accepted": len(accepted), "keys_with_two_request_ids": sum(len(v) > 1 for v in accepted.values()),
            "video_ids": video_ids}


def status_phase(cfg: dict, video_ids: list[int]) -> dict:
    stop = time.perf_counter() + cfg["status_seconds"]
    counts, errors, lock = [0], [], threading.Lock()

    def worker(offset: int):
        client, n, bad = Client(cfg["base"], cfg["key"]), 0, []
        i = offset
        while time.perf_counter() < stop:
            vid = video_ids[i % len(video_ids)]
            i += 7
            try:
                status, _ = client.request("GET", f"/api/v1/videos/{vid}")
            except OSError as exc:
                bad.append(f"conn:{type(exc).__name__}")
                continue
            n += 1
            if status != 200:
                bad.append(str(status))
        with lock:
            counts[0] += n
            errors.extend(bad)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(cfg["status_clients"])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    return {"status_rps": round(counts[0] / wall, 1), "status_requests": counts[0], "status_errors": len(errors),
            "status_error_kinds": sorted(set(errors))[:10]}


def main() -> None:
    cfg = json.loads(sys.argv[1])
    if cfg["phase"] == "create":
        created = create_phase(cfg)
        created["video_ids"] = list(dict.fromkeys(created["video_ids"]))  # a replayed response repeats its ids
        print(json.dumps(created))
    else:
        print(json.dumps(status_phase(cfg, cfg["video_ids"])))


if __name__ == "__main__":
    main()
