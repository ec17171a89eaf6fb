"""The front-end configuration: one validated dataclass shared by every backend.

The C++ extension mirrors these fields in a plain struct (`csrc/frontend_options.h`); the NumPy
reference and the Numba fallback read them directly. A config round-trips through `to_dict` /
`from_dict` so a model bundle can carry the exact features its model was trained on.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

WINDOWS = ("hamming", "hann", "povey", "rectangular")
MEL_SCALES = ("htk", "slaney")
MEL_NORMS = ("none", "slaney")
TRIANGLE_DOMAINS = ("hz", "mel")
LOG_TYPES = ("natural", "db")
CMVN_MODES = ("none", "mean", "meanvar")
KINDS = ("spectrogram", "log_mel", "mfcc")
# Kinds computed together and concatenated on the feature axis, in this order (the TF-CNN
# reads both). The spectrogram enters log-compressed like the mel bands (the config's log floor
# and log type): [log(max(power spectrum, log_floor)) (n_bins) | log mel (n_mels)].
COMBINED_KINDS = {"spectrogram+log_mel": ("spectrogram", "log_mel")}
MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 1000, 384000  # rates the front end and the audio loader take


def _next_pow2(n: int) -> int:
    return 1 << max(0, (int(n) - 1).bit_length())


@dataclass(frozen=True)
class FrontendConfig:
    """How samples become features. Defaults: 16 kHz, 25 ms / 10 ms Hamming, 40 mels, 13 MFCCs.

    Frames are taken Kaldi-style ("snip edges"): frame ``t`` covers samples
    ``[t*shift, t*shift + length)`` and a signal shorter than one frame gives zero frames.
    Per frame: remove DC (optional) -> pre-emphasis inside the frame -> symmetric window ->
    zero-pad to ``n_fft`` -> real FFT -> ``|X|**power`` -> mel filters -> log -> DCT-II
    (orthonormal) -> lifter. Deltas and per-utterance CMVN are applied over time afterwards.
    """

    sample_rate: int = 16000
    frame_length_ms: float = 25.0
    frame_shift_ms: float = 10.0
    n_fft: int = 0  # 0 = next power of two >= frame length
    window: str = "hamming"
    preemphasis: float = 0.97  # 0 = off
    remove_dc: bool = False
    n_mels: int = 40
    fmin: float = 20.0
    fmax: float = 0.0  # 0 = Nyquist; negative = offset below Nyquist (Kaldi style)
    mel_scale: str = "htk"
    mel_norm: str = "none"
    triangle_domain: str = "hz"  # "hz": librosa-style triangles; "mel": Kaldi-style
    power: float = 2.0  # 2 = power spectrum, 1 = magnitude
    log_type: str = "natural"  # natural log, or "db" = 10*log10
    log_floor: float = 1e-10
    n_mfcc: int = 13
    lifter: float = 0.0  # 0 = off; 22 is typical
    deltas: int = 0  # 0, 1 or 2 orders of regression deltas appended
    delta_window: int = 2
    cmvn: str = "none"  # per-utterance normalisation: none | mean | meanvar
    vtlp_alpha: float = 1.0  # vocal tract length perturbation of the mel filters; 1 = off
    vtlp_high_hz: float = 4800.0  # warp boundary; checked against Nyquist only when VTLP is on

    # ---- derived sizes -------------------------------------------------------------------
    @property
    def frame_length(self) -> int:
        return int(round(self.sample_rate * self.frame_length_ms / 1000.0))

    @property
    def frame_shift(self) -> int:
        return int(round(self.sample_rate * self.frame_shift_ms / 1000.0))

    @property
    def fft_size(self) -> int:
        return int(self.n_fft) if self.n_fft else _next_pow2(self.frame_length)

    @property
    def n_bins(self) -> int:
        return self.fft_size // 2 + 1

    @property
    def fmax_hz(self) -> float:
        nyq = self.sample_rate / 2.0
        return nyq + self.fmax if self.fmax <= 0 else float(self.fmax)

    def num_frames(self, num_samples: int) -> int:
        if num_samples < self.frame_length:
            return 0
        return 1 + (num_samples - self.frame_length) // self.frame_shift

    def static_dim(self, kind: str) -> int:
        check_kind(kind)
        if kind == "spectrogram":
            return self.n_bins
        if kind == "log_mel":
            return self.n_mels
        return self.n_mfcc

    @property
    def streamable(self) -> bool:
        """Whether frames can be computed a chunk at a time (per-utterance CMVN cannot)."""
        return self.cmvn == "none"

    def require_streamable(self) -> None:
        """ValueError unless `streamable`: the one message every streaming backend gives."""
        if not self.streamable:
            raise ValueError(
                "streaming cannot apply per-utterance CMVN (cmvn must be 'none'); "
                "normalise with fixed statistics after streaming instead"
            )

    def feature_dim(self, kind: str) -> int:
        if kind in COMBINED_KINDS:
            self.require_combinable(kind)
            return sum(self.static_dim(part) for part in COMBINED_KINDS[kind])
        return self.static_dim(kind) * (1 + self.deltas)

    def require_combinable(self, kind: str) -> None:
        """ValueError unless this config can compute the combined `kind` (no deltas, no CMVN:
        the spectrogram is log-compressed after the front end)."""
        if self.deltas or not self.streamable:
            raise ValueError(
                f"{kind} features need a front end without deltas and CMVN (the spectrogram is "
                f"log-compressed after the front end); got deltas={self.deltas}, cmvn={self.cmvn!r}"
            )

    # ---- validation ------------------------------------------------------------------------
    def __post_init__(self) -> None:
        def bad(field: str, why: str) -> ValueError:
            return ValueError(f"FrontendConfig.{field}={getattr(self, field)!r}: {why}")

        for name in (
            "frame_length_ms",
            "frame_shift_ms",
            "fmin",
            "fmax",
            "preemphasis",
            "power",
            "log_floor",
            "lifter",
            "vtlp_alpha",
            "vtlp_high_hz",
        ):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise bad(name, "must be a finite number")
        for name in ("sample_rate", "n_fft", "n_mels", "n_mfcc", "deltas", "delta_window"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int):
                raise bad(name, "must be an integer")
        if not MIN_SAMPLE_RATE <= self.sample_rate <= MAX_SAMPLE_RATE:
            raise bad("sample_rate", f"must be between {MIN_SAMPLE_RATE} and {MAX_SAMPLE_RATE} Hz")
        if self.frame_length_ms <= 0:
            raise bad("frame_length_ms", "must be positive")
        if self.frame_shift_ms <= 0:
            raise bad("frame_shift_ms", "must be positive")
        # Sample counts checked as floats first: round() of an infinite product (e.g.
        # frame_shift_ms=1e308) would raise OverflowError naming no field.
        if not self.sample_rate * self.frame_length_ms / 1000.0 <= 65536.5:
            raise bad("frame_length_ms", "gives a frame longer than 65536 samples")
        if not self.sample_rate * self.frame_shift_ms / 1000.0 <= 1e9:
            raise bad("frame_shift_ms", "gives a shift longer than 1e9 samples")
        if self.frame_length < 2:
            raise bad("frame_length_ms", "gives a frame shorter than 2 samples")
        if self.frame_shift < 1:
            raise bad("frame_shift_ms", "gives a shift shorter than 1 sample")
        if self.frame_length > 65536:
            raise bad("frame_length_ms", "gives a frame longer than 65536 samples")
        if self.n_fft < 0:
            raise bad("n_fft", "must be 0 (auto) or positive")
        if self.n_fft and self.n_fft < self.frame_length:
            raise bad("n_fft", f"must be >= the frame length ({self.frame_length} samples)")
        if self.n_fft > 131072:
            raise bad("n_fft", "must be <= 131072")
        if self.window not in WINDOWS:
            raise bad("window", f"must be one of {WINDOWS}")
        if not 0.0 <= self.preemphasis < 1.0:
            raise bad("preemphasis", "must be in [0, 1)")
        if not isinstance(self.remove_dc, bool):
            raise bad("remove_dc", "must be a bool")
        if not 1 <= self.n_mels <= 512:
            raise bad("n_mels", "must be between 1 and 512")
        nyq = self.sample_rate / 2.0
        if self.fmin < 0:
            raise bad("fmin", "must be >= 0")
        if self.fmax > nyq:
            raise bad("fmax", f"is above the Nyquist frequency ({nyq:g} Hz)")
        if self.fmax_hz <= self.fmin:
            raise bad("fmax", f"gives an upper edge ({self.fmax_hz:g} Hz) not above fmin")
        if self.mel_scale not in MEL_SCALES:
            raise bad("mel_scale", f"must be one of {MEL_SCALES}")
        if self.mel_norm not in MEL_NORMS:
            raise bad("mel_norm", f"must be one of {MEL_NORMS}")
        if self.triangle_domain not in TRIANGLE_DOMAINS:
            raise bad("triangle_domain", f"must be one of {TRIANGLE_DOMAINS}")
        if self.power not in (1.0, 2.0):
            raise bad("power", "must be 1 (magnitude) or 2 (power)")
        if self.log_type not in LOG_TYPES:
            raise bad("log_type", f"must be one of {LOG_TYPES}")
        if self.log_floor <= 0:
            raise bad("log_floor", "must be positive")
        if not 1 <= self.n_mfcc <= self.n_mels:
            raise bad("n_mfcc", f"must be between 1 and n_mels ({self.n_mels})")
        if self.lifter != 0 and self.lifter < 1:
            raise bad("lifter", "must be 0 (off) or >= 1")
        if self.deltas not in (0, 1, 2):
            raise bad("deltas", "must be 0, 1 or 2")
        if not 1 <= self.delta_window <= 10:
            raise bad("delta_window", "must be between 1 and 10")
        if self.cmvn not in CMVN_MODES:
            raise bad("cmvn", f"must be one of {CMVN_MODES}")
        if not 0.5 <= self.vtlp_alpha <= 2.0:
            raise bad("vtlp_alpha", "must be between 0.5 and 2.0")
        if self.vtlp_alpha != 1.0 and not 0 < self.vtlp_high_hz < nyq:
            raise bad("vtlp_high_hz", f"must be inside (0, Nyquist={nyq:g}) when VTLP is on")

    # ---- (de)serialisation -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FrontendConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown FrontendConfig fields: {unknown}")
        return cls(**dict(data))

    def replace(self, **changes: Any) -> FrontendConfig:
        return dataclasses.replace(self, **changes)

    # ---- presets -------------------------------------------------------------------------------
    @classmethod
    def preset(cls, name: str, **overrides: Any) -> FrontendConfig:
        """Named settings from the papers behind edgeser; see `PRESETS`."""
        try:
            base = PRESETS[name]
        except KeyError:
            raise ValueError(f"unknown preset {name!r}; choose from {sorted(PRESETS)}") from None
        return cls(**{**base, **overrides})


PRESETS: dict[str, dict[str, Any]] = {
    # Kaldi/HTK-like defaults.
    "default": {},
    # DyCNN+BiLSTM paper: 39-dim MFCC + delta + delta-delta, 30 ms / 15 ms Hamming,
    # pre-emphasis 0.97.
    "dycnn_mfcc39": dict(
        frame_length_ms=30.0,
        frame_shift_ms=15.0,
        window="hamming",
        preemphasis=0.97,
        n_mels=40,
        n_mfcc=13,
        deltas=2,
    ),
    # 1D/2D CNN-LSTM paper: log-mel spectrogram.
    "cnn_lstm_logmel": dict(
        frame_length_ms=25.0, frame_shift_ms=10.0, window="hamming", preemphasis=0.97, n_mels=64
    ),
    # librosa-compatible slaney mel (use with window="hann" and frame = n_fft for parity).
    "librosa_slaney": dict(
        mel_scale="slaney", mel_norm="slaney", preemphasis=0.0, fmin=0.0, log_type="db"
    ),
    # Kaldi fbank/MFCC settings (povey window, mel-domain triangles, lifter 22).
    "kaldi": dict(
        window="povey",
        remove_dc=True,
        triangle_domain="mel",
        n_mels=23,
        lifter=22.0,
        log_floor=1.1920928955078125e-07,
    ),
}


def kind_parts(kind: str) -> tuple[str, ...]:
    """The base kinds `kind` is made of: itself, or the parts of a `COMBINED_KINDS` kind."""
    if kind in COMBINED_KINDS:
        return COMBINED_KINDS[kind]
    if kind not in KINDS:
        raise ValueError(f"unknown feature kind {kind!r}; choose from {(*KINDS, *COMBINED_KINDS)}")
    return (kind,)


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown feature kind {kind!r}; choose from {KINDS}")
    return kind
