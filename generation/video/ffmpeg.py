"""ffmpeg / ffprobe plumbing: the encoder command (H.264 High yuv420p, BT.709 TV range, AAC
48 kHz, +faststart, platform bitrate caps), probing and EBU R128 measurement."""
from __future__ import annotations

import ctypes
import errno
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

# Bitrate caps per platform (upload limits are generous; caps keep files small and uploads
# fast). CRF decides quality; maxrate/bufsize only bound the peaks.
PLATFORM_PRESETS: dict[str, dict] = {
    "generic": {"maxrate": "12M", "bufsize": "24M"},
    "tiktok": {"maxrate": "8M", "bufsize": "16M"},
    "reels": {"maxrate": "8M", "bufsize": "16M"},
    "shorts": {"maxrate": "12M", "bufsize": "24M"},
    "youtube": {"maxrate": "16M", "bufsize": "32M"},
}


class FFmpegError(RuntimeError):
    pass


def ffmpeg_bin() -> str:
    path = shutil.which("ffmpeg")
    if path:
        return path
    try:
        import imageio_ffmpeg
        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception as exc:  # pragma: no cover - depends on the box
        raise FFmpegError("ffmpeg not found: apt-get install ffmpeg") from exc


def video_encode_args(*, preset: str, crf: int, platform: str, threads: int = 0,
                      source_pix_fmt: str = "yuv420p") -> list[str]:
    """Codec flags shared by the renderer and the bench's encode floor (same settings).
    ``source_pix_fmt="yuv420p"``: the raw frames are already BT.709 TV-range I420 with centred
    chroma (``yuv.I420``), encoded as they are; ``"rgb0"``: swscale converts them first."""
    caps = PLATFORM_PRESETS.get(platform, PLATFORM_PRESETS["generic"])
    if source_pix_fmt == "yuv420p":
        convert = ["-chroma_sample_location", "center"]
    elif source_pix_fmt == "rgb0":
        convert = ["-vf", "scale=out_color_matrix=bt709:out_range=tv:flags=bicubic,format=yuv420p"]
    else:
        raise ValueError(f"raw frames must be yuv420p or rgb0, not {source_pix_fmt!r}")
    return [*convert, "-c:v", "libx264", "-preset", preset, "-crf", str(crf), "-profile:v", "high",
            # ultrafast/superfast turn CABAC and 8x8 transforms off, which silently
            # downgrades the stream to Constrained Baseline; keep High whatever the preset.
            "-x264-params", "cabac=1:8x8dct=1",
            "-pix_fmt", "yuv420p", "-maxrate", caps["maxrate"], "-bufsize", caps["bufsize"],
            "-threads", str(threads), "-color_primaries", "bt709", "-color_trc", "bt709",
            "-colorspace", "bt709", "-color_range", "tv"]


def raw_input_args(width: int, height: int, fps: int, source: str = "-", pix_fmt: str = "yuv420p") -> list[str]:
    # -framerate must precede the input or ffmpeg assumes 25 fps and drops/duplicates frames.
    return ["-f", "rawvideo", "-pix_fmt", pix_fmt, "-s", f"{width}x{height}", "-framerate", str(fps), "-i", source]


def widen_pipe(fd: int, size: int = 8 << 20) -> int:
    """Grow a pipe's kernel buffer (64 KiB by default) towards ``size``, capped by
    /proc/sys/fs/pipe-max-size (1 MiB unless raised). A raw 1080×1920 frame is 3 MiB in yuv420p
    (8 in RGBX): with the default buffer the writer and ffmpeg wake each other ~50 times per
    frame; with 1 MiB ~3 (measured on RGBX: ~25 % less CPU spent moving frames). Returns the
    size in effect."""
    try:
        cap = int(Path("/proc/sys/fs/pipe-max-size").read_text())
        return fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, min(size, cap))
    except (OSError, ValueError):  # a kernel or container that forbids it: the default still works
        return 65536


def pipe_size(fd: int) -> int:
    """The pipe's kernel buffer in bytes (64 KiB where it cannot be asked)."""
    try:
        return fcntl.fcntl(fd, getattr(fcntl, "F_GETPIPE_SZ", 1032))
    except OSError:
        return 65536


class _IOVec(ctypes.Structure):
    _fields_ = [("iov_base", ctypes.c_void_p), ("iov_len", ctypes.c_size_t)]


def _libc_vmsplice():
    try:
        fn = ctypes.CDLL(None, use_errno=True).vmsplice  # CDLL calls release the GIL
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.POINTER(_IOVec), ctypes.c_ulong, ctypes.c_uint]
    fn.restype = ctypes.c_ssize_t
    return fn


_VMSPLICE = _libc_vmsplice() if sys.platform.startswith("linux") else None


def frame_writer(fd: int, *, zero_copy: bool = True):
    """``write(frame)`` that puts a whole C-contiguous numpy frame into the pipe ``fd``.

    On Linux the frame's pages are handed to the pipe with ``vmsplice`` instead of being
    copied into it: a 1080×1920 RGBX frame is 8 MiB, and copying 450 of them cost the
    renderer ~1 CPU-s per 15 s ad (measured on 2 cores), a sixth of its compositing cost
    (frames are yuv420p now, 3 MiB).
    The reader (ffmpeg) copies from those very pages when it reads, so a frame must not be
    written to again until the pipe has moved past it: after ``write`` returns, at most
    ``pipe_size(fd)`` bytes of it are still unread (see ``spliced_frames_in_flight``).
    Falls back to plain ``write`` where vmsplice is missing or refused."""
    state = {"splice": zero_copy and _VMSPLICE is not None}

    def copy_in(frame) -> None:
        view = memoryview(frame).cast("B")
        while len(view):
            view = view[os.write(fd, view):]

    def write(frame) -> None:
        if not frame.flags.c_contiguous:  # a temporary copy must never be spliced (it is freed)
            copy_in(frame.copy())
            return
        if state["splice"]:
            addr, left = frame.ctypes.data, frame.nbytes
            while left:
                iov = _IOVec(addr, left)
                n = _VMSPLICE(fd, ctypes.byref(iov), 1, 0)
                if n < 0:
                    err = ctypes.get_errno()
                    if err == errno.EINTR:
                        continue
                    if err in (errno.EINVAL, errno.ENOSYS, errno.EBADF, errno.EPERM) and left == frame.nbytes:
                        state["splice"] = False  # not a pipe, no vmsplice, or a seccomp filter: copy instead
                        break
                    raise OSError(err, os.strerror(err))
                addr, left = addr + n, left - n
            if state["splice"]:
                return
        copy_in(frame)

    return write


def spliced_frames_in_flight(*, pipe_bytes: int, frame_bytes: int) -> int:
    """How many frames handed to ``frame_writer`` the reader may still read from (their pages
    are shared with the pipe): the one being written, and finished ones still in the pipe
    (one more than fit its buffer, as a frame may straddle its start)."""
    return 2 + -(-pipe_bytes // max(1, frame_bytes))


def encode_command(*, width: int, height: int, fps: int, audio: Path | None, out: Path, preset: str,
                   crf: int, platform: str, audio_bitrate: str = "192k", source: str = "-",
                   faststart: bool = True, pix_fmt: str = "yuv420p") -> list[str]:
    """Encode raw frames (``pix_fmt``: yuv420p from ``yuv.I420``, or rgb0) from ``source``."""
    cmd = [ffmpeg_bin(), "-y", "-hide_banner", "-loglevel", "error",
           *raw_input_args(width, height, fps, source, pix_fmt)]
    if audio:
        cmd += ["-i", str(audio)]
    cmd += video_encode_args(preset=preset, crf=crf, platform=platform, source_pix_fmt=pix_fmt)
    if audio:
        cmd += ["-c:a", "aac", "-b:a", audio_bitrate, "-ar", "48000", "-ac", "2", "-shortest"]
    # An intermediate (the renderer's video-only file) skips the moov-to-front rewrite.
    return cmd + (["-movflags", "+faststart"] if faststart else []) + [str(out)]


def mux_command(*, video: Path, audio: Path, out: Path) -> list[str]:
    """Copy the encoded video and the AAC audio (.m4a/.mp4/.aac, what ``audio.mix`` writes for
    the renderer) into a web-ready MP4 (+faststart); nothing is re-encoded."""
    if Path(audio).suffix.lower() not in (".m4a", ".mp4", ".aac"):
        raise ValueError(f"mux copies AAC audio; {audio} is not an .m4a/.mp4/.aac")
    return [ffmpeg_bin(), "-y", "-hide_banner", "-loglevel", "error", "-i", str(video), "-i", str(audio),
            "-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy", "-c:a", "copy", "-movflags", "+faststart", str(out)]


def run(cmd: list[str], *, input: bytes | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    try:
        proc = subprocess.run(cmd, input=input, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise FFmpegError(f"ffmpeg timed out after {timeout:.0f} s") from exc
    if proc.returncode != 0:
        raise FFmpegError(f"ffmpeg failed ({proc.returncode}): {proc.stderr.decode(errors='replace')[-800:]}")
    return proc


def probe(path: Path) -> dict:
    """ffprobe's JSON for streams and format (ffprobe comes with Debian's ffmpeg)."""
    exe = shutil.which("ffprobe")
    if not exe:
        raise FFmpegError("ffprobe not found: apt-get install ffmpeg")
    proc = run([exe, "-v", "error", "-print_format", "json", "-show_streams", "-show_format", str(path)], timeout=60)
    return json.loads(proc.stdout)


def loudness(path: Path | None = None, *, pcm: bytes | None = None, sample_rate: int = 48000,
             channels: int = 2, true_peak: bool = True) -> dict:
    """Integrated loudness (LUFS) and true peak (dBTP; None with ``true_peak=False``, which
    skips the 4x-oversampled peak scan) by ffmpeg's ebur128 filter, of a file or of raw
    float32 PCM."""
    src = ["-i", str(path)] if path else ["-f", "f32le", "-ar", str(sample_rate), "-ac", str(channels), "-i", "-"]
    proc = run([ffmpeg_bin(), "-hide_banner", "-nostats", *src, "-map", "0:a:0",
                "-af", "ebur128=peak=true" if true_peak else "ebur128", "-f", "null", "-"], input=pcm, timeout=300)
    return parse_ebur128(proc.stderr.decode(errors="replace"))


def parse_ebur128(err: str) -> dict:
    """{lufs, true_peak} from the summary ebur128 prints at the end of a run."""
    summary = err[err.rfind("Summary:"):]
    i = re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", summary)
    tp = re.search(r"True peak:\s+Peak:\s+(-?[\d.]+|-inf) dBFS", summary)
    if not i:
        raise FFmpegError("ebur128 printed no summary")
    to_f = lambda s: float("-inf") if s == "-inf" else float(s)  # noqa: E731
    return {"lufs": to_f(i.group(1)), "true_peak": to_f(tp.group(1)) if tp else None}
