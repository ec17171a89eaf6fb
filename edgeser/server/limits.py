"""What bounds the server: worker slots with a short queue, a memory budget, a connection count.

- `WorkSlots`: at most `workers` predictions run at once; at most `queue` more wait for one;
  anything beyond is refused at once (`Busy`: 503 + Retry-After), and a wait is bounded.
- `MemoryBudget`: every upload reserves its bytes while it is read and every decode reserves
  the estimate of its peak working memory (`decode_cost`, from the audio header) before it
  starts; what would not fit now is refused (`Busy`), what could never fit is too large
  (`TooLarge`: 413). The pool is the budget less what the server itself holds at start-up.
- `ConnectionCounter`: open HTTP connections, kept by the server's protocol.
"""

from __future__ import annotations

import collections
import threading
from dataclasses import dataclass

import anyio

MiB = 1024 * 1024


class Busy(Exception):
    """No capacity now; the client should retry after `retry_after_s`."""

    def __init__(self, message: str, retry_after_s: int = 1):
        super().__init__(message)
        self.retry_after_s = retry_after_s


class TooLarge(Exception):
    """A request that could never fit the server's limits."""


# ---- worker slots -----------------------------------------------------------------------------
class WorkSlots:
    """`workers` concurrent predictions, a FIFO queue of at most `queue` waiters.

    Used from one event loop; `acquire` hands a freed slot straight to the oldest waiter.
    """

    def __init__(self, workers: int, queue: int):
        self.workers = workers
        self.queue = queue
        self.running = 0
        self._waiters: collections.deque[anyio.Event] = collections.deque()
        self._limiter: anyio.CapacityLimiter | None = None

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    async def acquire(self, timeout_s: float) -> None:
        if self.running < self.workers and not self._waiters:
            self.running += 1
            return
        if len(self._waiters) >= self.queue:
            raise Busy(
                f"server busy: {self.running} predictions running and {len(self._waiters)} "
                "waiting; retry shortly"
            )
        event = anyio.Event()
        self._waiters.append(event)
        try:
            with anyio.fail_after(timeout_s):
                await event.wait()
        except BaseException as exc:
            if event in self._waiters:  # never granted
                self._waiters.remove(event)
            else:  # granted as the wait ended: pass the slot on
                self.release()
            if isinstance(exc, TimeoutError):
                raise Busy(f"server busy: no worker free within {timeout_s:g} s") from None
            raise

    def release(self) -> None:
        if self._waiters:
            self._waiters.popleft().set()  # the slot goes to the oldest waiter
        else:
            self.running -= 1

    async def run(self, fn, *args, timeout_s: float):
        """`fn(*args)` in a worker thread once a slot is free (waiting at most `timeout_s`)."""
        await self.acquire(timeout_s)
        try:
            if self._limiter is None:
                self._limiter = anyio.CapacityLimiter(self.workers)
            return await anyio.to_thread.run_sync(fn, *args, limiter=self._limiter)
        finally:
            self.release()


# ---- memory -----------------------------------------------------------------------------------
def process_rss_bytes() -> int:
    """Resident set size of this process (Linux /proc; elsewhere the peak from getrusage)."""
    try:
        with open("/proc/self/statm") as fh:
            pages = int(fh.read().split()[1])
        import os

        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource
        import sys

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


_M_MMAP_THRESHOLD = -3  # glibc mallopt parameter


def tune_allocator(mmap_threshold: int = 1 * MiB) -> bool:
    """Make freed large buffers go back to the OS at once (glibc; False elsewhere).

    glibc raises its mmap threshold after the first large free (up to 32 MiB), so later large
    arrays come from per-thread heaps that keep their high-water mark: with a few worker
    threads the process RSS settles at the sum of their peaks, past what the memory budget
    reserves. A fixed threshold serves every allocation of at least `mmap_threshold` with
    mmap, returned on free. The process-wide switch of `edgeser serve`.
    """
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return bool(mallopt(_M_MMAP_THRESHOLD, int(mmap_threshold)))


def decode_cost(frames: int, channels: int, rate: int, model_rate: int) -> int:
    """Peak working memory (bytes) of decoding and predicting audio of this header.

    Measured on the bundled models (peak RSS over a warm server, 8 kHz..48 kHz, mono and
    stereo, 60-600 s) and rounded up: the float32 read of every channel, the mono mix-down,
    the resampler's input and output, then about 2.5 float32 copies at the model rate for
    features, windows and scores, plus a fixed 4 MiB.
    """
    model_samples = frames * model_rate / max(1, rate)
    samples = float(frames * channels + (frames if channels > 1 else 0))
    if rate != model_rate:
        samples += frames + model_samples
    samples += 2.5 * model_samples
    return int(4 * samples) + 4 * MiB


WS_QUEUE = 4  # WebSocket messages uvicorn buffers per stream before it stops reading


def stream_cost(max_message_bytes: int) -> int:
    """Memory one open stream may hold: queued and in-flight messages (and their float32
    copies), the stream's feature window, the resampler."""
    return (WS_QUEUE + 4) * max_message_bytes + 2 * MiB


@dataclass
class Reservation:
    """Bytes held from a `MemoryBudget`; `release()` (or the with-block) gives them back."""

    budget: MemoryBudget
    nbytes: int = 0

    def grow(self, nbytes: int, what: str) -> None:
        self.budget._take(nbytes, what)
        self.nbytes += nbytes

    def shrink(self, nbytes: int) -> None:
        """Give back part of the reservation (at most what it holds)."""
        nbytes = min(int(nbytes), self.nbytes)
        if nbytes > 0:
            self.budget._give(nbytes)
            self.nbytes -= nbytes

    def release(self) -> None:
        if self.nbytes:
            self.budget._give(self.nbytes)
            self.nbytes = 0

    def __enter__(self) -> Reservation:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class MemoryBudget:
    """A pool of `total` bytes shared by every request (thread-safe)."""

    def __init__(self, total: int):
        if total < 1:
            raise ValueError("MemoryBudget.total must be positive")
        self.total = int(total)
        self.used = 0
        self.peak = 0
        self._lock = threading.Lock()

    @property
    def available(self) -> int:
        return self.total - self.used

    def reserve(self, nbytes: int = 0, what: str = "request") -> Reservation:
        r = Reservation(self)
        if nbytes:
            r.grow(nbytes, what)
        return r

    def _take(self, nbytes: int, what: str) -> None:
        nbytes = int(nbytes)
        if nbytes > self.total:
            raise TooLarge(
                f"{what} needs {nbytes / MiB:.1f} MiB of working memory, more than the "
                f"server's {self.total / MiB:.1f} MiB for requests (memory budget)"
            )
        with self._lock:
            if self.used + nbytes > self.total:
                free = self.total - self.used
                raise Busy(
                    f"server memory busy: {what} needs {nbytes / MiB:.1f} MiB, "
                    f"{free / MiB:.1f} MiB free now; retry shortly"
                )
            self.used += nbytes
            self.peak = max(self.peak, self.used)

    def _give(self, nbytes: int) -> None:
        with self._lock:
            self.used -= nbytes


# ---- connections ------------------------------------------------------------------------------
class ConnectionCounter:
    """Open HTTP connections (kept by the server's protocol; 0 under test clients)."""

    def __init__(self) -> None:
        self.open = 0
        self.total = 0

    def opened(self) -> None:
        self.open += 1
        self.total += 1

    def closed(self) -> None:
        self.open -= 1
