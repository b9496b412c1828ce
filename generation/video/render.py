"""``render(timeline, assets_dir, out_dir) -> RenderResult``: a pure function of its inputs.

A numpy/OpenCV compositor draws each frame (static plates pre-rendered once, only moving
layers recomputed) straight into BT.709 TV-range yuv420p planes, the encoder's own format,
and streams it to one ffmpeg process, which encodes H.264; the normalised AAC mix is muxed in
at the end. A frame with a layer that can only draw RGBX is drawn in RGBX and converted
(``yuv.I420``, ~3× cheaper than ffmpeg's swscale); previews and thumbnails are drawn in RGBX.
A writer thread keeps ffmpeg fed while the next frame is composed, so both cores stay busy.
No database, no network; the same timeline and assets give the same frames.
"""
from __future__ import annotations

import queue
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from generation.voice.captions import join_tokens

from . import audio as audio_mix
from . import ffmpeg as ff
from . import yuv
from .layers import RENDERERS, RenderContext
from .schema import AUDIO_TYPES, Timeline


@dataclass
class RenderResult:
    video: Path
    thumbnail: Path
    captions: Path
    timeline_json: Path
    duration: float
    loudness: dict = field(default_factory=dict)
    frames: int = 0
    render_s: float = 0.0
    after: object = None  # what ``render(after_frames=...)`` returned


class Compositor:
    """Renderers for one timeline, prepared lazily when their layer first shows and released
    once it has ended: the encoder is fed from the first frame (no upfront stall) and long
    ads keep only the visible layers' plates in memory. ``frame(t)`` gives the RGB frame."""

    def __init__(self, timeline: Timeline, assets_dir: Path):
        self.tl = timeline
        self.ctx = RenderContext(width=timeline.width, height=timeline.height, fps=timeline.fps,
                                 brand=timeline.brand, assets_dir=Path(assets_dir),
                                 safe_rect=timeline.safe_rect, duration=timeline.duration)
        self.layers = [ly for ly in timeline.layers if ly.type not in AUDIO_TYPES]
        for ly in self.layers:  # fail fast, before any frame is encoded
            if ly.type not in RENDERERS:
                raise ValueError(f"no renderer registered for layer type {ly.type!r}")
            if getattr(ly, "asset", None) and not self.ctx.path(ly.asset).is_file():
                raise FileNotFoundError(f"timeline asset not found: {self.ctx.path(ly.asset)}")
        self._live: dict[int, object] = {}
        self._held: np.ndarray | None = None  # the composed held layers, and what they were
        self._held_key: tuple = ()
        self._prev_keys: list = []
        r, g, b = (int(timeline.brand.dark[i:i + 2], 16) for i in (1, 3, 5))
        self.fill = (r, g, b, 255)
        self._fill32 = np.frombuffer(bytes(self.fill), np.uint32)[0]
        self._i420: yuv.I420 | None = None
        self._rgbx: np.ndarray | None = None

    def renderer(self, i: int):
        if i not in self._live:
            self._live[i] = RENDERERS[self.layers[i].type](self.layers[i], self.ctx)
        return self._live[i]

    @property
    def renderers(self) -> list:
        """Every layer's renderer, all prepared (for tools that need them at once)."""
        return [self.renderer(i) for i in range(len(self.layers))]

    def _active(self, t: float, skip: tuple[str, ...] = ()) -> list:
        for i in [i for i, ly in self._live_items() if ly.end <= t]:
            del self._live[i]
        return [(i, self.renderer(i)) for i, ly in enumerate(self.layers)
                if ly.start <= t < ly.end and ly.type not in skip]

    def draw_i420(self, t: float, out: np.ndarray) -> np.ndarray | yuv.Planes:
        """The frame at t as I420 in ``out`` (a flat buffer): drawn straight into its planes
        when every visible layer can, else drawn in RGBX and converted. Returns the frame as
        drawn (``yuv.Planes`` over ``out``, or the RGBX scratch buffer), valid until the
        next call."""
        if self._i420 is None:
            self._i420 = yuv.I420(self.tl.width, self.tl.height)
        active = self._active(t)
        if all(r.planes_ok(t) for _, r in active):
            return self._draw(t, self._i420.frame(out), active)
        if self._rgbx is None:
            self._rgbx = self.buffer()
        frame = self._draw(t, self._rgbx, active)
        self._i420.convert(frame, out)
        return frame

    def draw(self, t: float, frame: np.ndarray | yuv.Planes, skip: tuple[str, ...] = ()) -> np.ndarray | yuv.Planes:
        """Paint the frame at t into ``frame``: an RGBX buffer, or ``yuv.Planes`` when every
        visible layer's ``planes_ok(t)``."""
        return self._draw(t, frame, self._active(t, skip), skip)

    def _draw(self, t: float, frame, active: list, skip: tuple[str, ...] = ()):
        # Held layers: the bottom run of layers that look exactly as they did last frame (an
        # end card's still backdrop, scrims, a landed product card) is composed once, kept,
        # and copied; only the layers above it (pulsing tags, captions, the progress bar) are
        # redrawn. Thumbnails (skip) never touch the kept copy.
        keys = [] if skip else [(i, r.hold_key(t)) for i, r in active]
        same = 0
        while (same < min(len(keys), len(self._prev_keys)) and keys[same][1] is not None
               and keys[same] == self._prev_keys[same]):
            same += 1
        start = 0
        planes = isinstance(frame, yuv.Planes)
        if (len(self._held_key) >= 2 and tuple(keys[:len(self._held_key)]) == self._held_key
                and isinstance(self._held, yuv.Planes) == planes):
            _copy(frame, self._held)
            start = len(self._held_key)
        else:
            first = active[0][1] if active else None
            if not (first is not None and first.layer.type in ("shot", "image") and getattr(first, "full", False)):
                self._clear(frame)
        if same >= 2 and same > start:  # a longer run is now still: keep it
            for _, r in active[start:same]:
                r.draw(frame, t)
            if self._held is None or isinstance(self._held, yuv.Planes) != planes:
                self._held = yuv.Planes.empty(self.tl.width, self.tl.height) if planes else np.empty_like(frame)
            _copy(self._held, frame)
            self._held_key, start = tuple(keys[:same]), same
        for _, r in active[start:]:
            r.draw(frame, t)
        self._prev_keys = keys
        return frame

    def _clear(self, frame: np.ndarray) -> None:
        """Fill with the brand's dark colour: one 32-bit store per pixel (numpy broadcasting a
        4-tuple over a 1080×1920 frame took ~10 ms, a warp's worth)."""
        if isinstance(frame, yuv.Planes):
            frame.fill(self.fill)
        elif frame.flags.c_contiguous:
            frame.view(np.uint32).fill(self._fill32)
        else:
            frame[:] = self.fill

    def _live_items(self):
        return [(i, self.layers[i]) for i in self._live]

    def buffer(self) -> np.ndarray:
        """A frame buffer: RGBX (4 channels; X is padding, never read)."""
        return np.empty((self.tl.height, self.tl.width, 4), np.uint8)

    def frame(self, t: float) -> np.ndarray:
        """The RGB frame at time t (a copy, for thumbnails, previews and tests)."""
        return np.ascontiguousarray(self.draw(t, self.buffer())[:, :, :3])


def _copy(dst: np.ndarray | yuv.Planes, src: np.ndarray | yuv.Planes) -> None:
    if isinstance(dst, yuv.Planes):
        dst.copy_from(src)
    else:
        np.copyto(dst, src)


def write_srt(timeline: Timeline, path: Path) -> Path:
    def ts(s: float) -> str:
        ms = int(round(s * 1000))
        return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"
    lines, k = [], 0
    for layer in timeline.layers:
        if layer.type == "captions":
            for chunk in layer.chunks:
                k += 1
                # spaces between Latin words only: "认识一下Northwind。", "Adidas Youth 运动"
                text = join_tokens([w.word for w in chunk.words])
                lines += [str(k), f"{ts(chunk.start)} --> {ts(chunk.end)}", text, ""]
            break
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def stream_frames(comp: Compositor, proc: subprocess.Popen, *, on_frame=None, pages: list | None = None) -> int:
    """Compose every frame as I420 (``Compositor.draw_i420``) and feed ffmpeg through a small
    queue (a writer thread overlaps pipe writes with composition; buffers are recycled, never
    shared while queued).

    The I420 buffers are appended to ``pages``, which the caller must hold until the reader
    has exited: the pipe still shares the last frames' pages when this returns, and freed
    buffers are soon reused by the allocator (measured: the last frames came out overwritten by
    whatever the thumbnail and the quality gate allocated next). Without ``pages`` this waits
    for the reader itself."""
    tl = comp.tl
    # ~0.2 s of frames in flight: a new scene's layers (picture decode and resize, text plates)
    # are prepared on the compose thread, and the encoder must not starve meanwhile.
    depth = 6
    q: queue.Queue = queue.Queue(maxsize=depth)
    fd = proc.stdin.fileno()
    write = ff.frame_writer(fd)
    to_i420 = yuv.I420(tl.width, tl.height)
    # Frames go to ffmpeg by vmsplice (no copy): a buffer is recycled only once ffmpeg can no
    # longer be reading it, i.e. it is none of the queued frames, the one being drawn, and
    # the ones the pipe may still hold.
    pool = [to_i420.buffer() for _ in range(
        depth + 1 + ff.spliced_frames_in_flight(pipe_bytes=ff.pipe_size(fd), frame_bytes=to_i420.frame_bytes))]
    if pages is not None:
        pages.extend(pool)
    failure: list[BaseException] = []

    def writer():
        try:
            while (buf := q.get()) is not None:
                write(buf)
        except BaseException as exc:  # noqa: BLE001 - reported on the main thread
            failure.append(exc)
            while q.get() is not None:
                pass

    th = threading.Thread(target=writer, daemon=True)
    th.start()
    n = tl.n_frames
    # ffmpeg's encoder threads already fill the cores: OpenCV's own worker threads would only
    # add hand-offs (measured ~15 % more CPU per warp with 2 threads than with 1 on 2 cores).
    cv_threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        for k in range(n):
            buf = pool[k % len(pool)]
            frame = comp.draw_i420(k / tl.fps, buf)
            if on_frame:
                on_frame(k, frame)
            q.put(buf)
            if failure:
                break
    finally:
        cv2.setNumThreads(cv_threads)
        q.put(None)
        th.join()
        proc.stdin.close()
        if pages is None:
            proc.wait()
    if failure:
        raise ff.FFmpegError(f"ffmpeg stopped reading frames: {failure[0]}")
    return n


def encode_video(comp: Compositor, out: Path, *, preset: str, on_frame=None, while_draining=None) -> int:
    """Stream every frame into one ffmpeg (video only); returns the frame count.
    ``while_draining()`` runs once every frame is with ffmpeg, while it encodes the last ones
    (its lookahead and frame threads hold ~0.5 s of work): the compose thread is free then."""
    tl = comp.tl
    cmd = ff.encode_command(width=tl.width, height=tl.height, fps=tl.fps, audio=None, out=out, preset=preset,
                            crf=tl.encode.crf, platform=tl.encode.platform, faststart=False)
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    pages: list = []  # the frames' buffers, shared with the pipe until ffmpeg exits (stream_frames)
    try:
        ff.widen_pipe(proc.stdin.fileno())
        try:
            frames = stream_frames(comp, proc, on_frame=on_frame, pages=pages)
        except ff.FFmpegError as exc:  # ffmpeg died mid-stream: its own words say why
            proc.wait(timeout=30)
            raise ff.FFmpegError(f"{exc}; ffmpeg: {proc.stderr.read().decode(errors='replace')[-800:]}") from exc
        if while_draining is not None:
            while_draining()
        err = proc.stderr.read().decode(errors="replace")
        if proc.wait(timeout=600) != 0:
            raise ff.FFmpegError(f"ffmpeg encode failed: {err[-800:]}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return frames


def render(timeline: Timeline | dict, assets_dir: Path, out_dir: Path, *, preset: str | None = None,
           on_frame=None, after_frames=None) -> RenderResult:
    """Render video.mp4, thumbnail.jpg, captions.srt and timeline.json into out_dir.
    ``on_frame(index, frame)`` sees every frame as it goes to the encoder (``yuv.Planes``, or
    an RGBX array when a layer drew in RGBX; read-only, and only during the call: the buffer
    is reused), e.g. ``presence.FrameSampler``. ``after_frames()``
    runs once the last frame is with the encoder, while it drains (e.g. the quality gate on
    the sampled frames); its return value is ``RenderResult.after``. An exception from it
    stops the render (ffmpeg is killed) and propagates."""
    t0 = time.perf_counter()
    tl = timeline if isinstance(timeline, Timeline) else Timeline.model_validate(timeline)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    timeline_json = out_dir / "timeline.json"
    timeline_json.write_text(tl.model_dump_json(indent=1))
    comp = Compositor(tl, assets_dir)
    aac = out_dir / "mix.m4a"
    silent, video = out_dir / "video_only.mp4", out_dir / "video.mp4"
    # The audio mix (numpy, then two ffmpeg passes: one measures the limiter, one limits,
    # measures and encodes AAC) runs beside the video encode; the two meet in a final mux that only copies streams and moves
    # the moov to the front.
    thumbnail, captions = out_dir / "thumbnail.jpg", out_dir / "captions.srt"
    after: list = []

    def tail() -> None:  # while ffmpeg drains its last frames: the compose thread is idle
        # A clean frame with the product: same compositor, without captions (they belong to speech).
        thumb = comp.draw(min(tl.thumbnail_time, (tl.n_frames - 1) / tl.fps), comp.buffer(), skip=("captions",))
        Image.fromarray(np.ascontiguousarray(thumb[:, :, :3])).save(thumbnail, quality=90)
        write_srt(tl, captions)
        after.append(after_frames() if after_frames is not None else None)

    with ThreadPoolExecutor(max_workers=1) as pool:
        mixing = pool.submit(audio_mix.mix, tl, assets_dir, aac, audio_bitrate=tl.encode.audio_bitrate)
        frames = encode_video(comp, silent, preset=preset or tl.encode.preset, on_frame=on_frame,
                              while_draining=tail)
        loud = mixing.result()
    ff.run(ff.mux_command(video=silent, audio=aac, out=video))
    for tmp in (silent, aac):
        tmp.unlink(missing_ok=True)
    return RenderResult(video=video, thumbnail=thumbnail, captions=captions, timeline_json=timeline_json,
                        duration=frames / tl.fps, loudness=loud, frames=frames,
                        render_s=round(time.perf_counter() - t0, 3), after=after[0] if after else None)


def as_videoclip(timeline: Timeline, assets_dir: Path):
    """The same compositor as a moviepy ``VideoClip`` (for composing with other moviepy clips);
    moviepy is imported only here."""
    from moviepy import VideoClip
    comp = Compositor(timeline, assets_dir)
    return VideoClip(frame_function=comp.frame, duration=timeline.n_frames / timeline.fps).with_fps(timeline.fps)
