"""Options of the voice descriptors (F0, voice quality, spectral shape, formants).

One validated dataclass shared by the C++ extension (mirrored field by field in
`csrc/descriptor_options.h`) and the NumPy reference. The definitions of every descriptor are in
docs/voice-descriptors.md; `DESCRIPTOR_NAMES` is the column order of every backend's output.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .config import MAX_SAMPLE_RATE, MIN_SAMPLE_RATE

DESCRIPTOR_NAMES = (
    "f0_hz",
    "voicing",
    "hnr_db",
    "jitter_local",
    "shimmer_local_db",
    "loudness",
    "energy_db",
    "alpha_ratio_db",
    "hammarberg_db",
    "slope_0_500",
    "slope_500_1500",
    "f1_hz",
    "f1_bw_hz",
    "f2_hz",
    "f2_bw_hz",
    "f3_hz",
    "f3_bw_hz",
    "spectral_flux",
    "spectral_centroid_hz",
    "spectral_rolloff_hz",
    "spectral_entropy",
    "zcr",
)
COLUMN = {name: i for i, name in enumerate(DESCRIPTOR_NAMES)}
F0_LOOKAHEAD = 2  # frames of look-ahead the octave-jump smoothing needs

# Fields added after the first stored configs, with the value a stored config without them
# meant, and the bundle format version that introduced them (`min_format_version`).
LEGACY_FIELDS: dict[str, tuple[float, int]] = {
    "power_floor": (1e-10, 10),
    "spectrum_floor": (1e-12, 10),
}


def _samples(rate: int, ms: float) -> int:
    return int(round(rate * ms / 1000.0))


@dataclass(frozen=True)
class DescriptorConfig:
    """How samples become voice descriptors: 10 ms frames, a 50 ms pitch and a 25 ms spectral
    window centred on the same instant, F0 searched in 60-500 Hz."""

    sample_rate: int = 16000
    frame_shift_ms: float = 10.0
    pitch_window_ms: float = 50.0
    spectral_window_ms: float = 25.0
    f0_min_hz: float = 60.0
    f0_max_hz: float = 500.0
    voicing_threshold: float = 0.45  # on the cumulative mean normalised difference
    # Pitch windows quieter than this are unvoiced. Far below any recorded signal (16-bit
    # quantisation noise is near -100 dBFS): only digital silence, so the level does not decide.
    silence_dbfs: float = -150.0
    lpc_order: int = 16
    formant_max_hz: float = 5500.0
    formant_max_bw_hz: float = 400.0
    # Power added before energy_db's log, and the floor of the functional sets' MFCC and log-mel
    # powers: far below any recorded signal, so digital silence stays inactive at any input
    # level. Configs stored before it (bundle format < 10) meant 1e-10 (and silence_dbfs -80).
    power_floor: float = 1e-20
    # Power added to each bin and band sum of the spectrum before the spectral-shape logs
    # (alpha ratio, Hammarberg index, slopes); a spectrum below it counts as empty. Before
    # format 10: 1e-12.
    spectrum_floor: float = 1e-22

    # ---- derived sizes ---------------------------------------------------------------------
    @property
    def frame_shift(self) -> int:
        return _samples(self.sample_rate, self.frame_shift_ms)

    @property
    def pitch_length(self) -> int:
        return _samples(self.sample_rate, self.pitch_window_ms)

    @property
    def spectral_length(self) -> int:
        return _samples(self.sample_rate, self.spectral_window_ms)

    @property
    def analysis_length(self) -> int:
        return max(self.pitch_length, self.spectral_length)

    @property
    def pitch_offset(self) -> int:
        return (self.analysis_length - self.pitch_length) // 2

    @property
    def spectral_offset(self) -> int:
        return (self.analysis_length - self.spectral_length) // 2

    @property
    def fft_size(self) -> int:
        return 1 << max(0, (self.spectral_length - 1).bit_length())

    @property
    def tau_min(self) -> int:
        return int(math.floor(self.sample_rate / self.f0_max_hz))

    @property
    def tau_max(self) -> int:
        return int(math.ceil(self.sample_rate / self.f0_min_hz))

    @property
    def dim(self) -> int:
        return len(DESCRIPTOR_NAMES)

    def num_frames(self, num_samples: int) -> int:
        if num_samples < self.analysis_length:
            return 0
        return 1 + (int(num_samples) - self.analysis_length) // self.frame_shift

    def __post_init__(self) -> None:
        def bad(field: str, why: str) -> ValueError:
            return ValueError(f"DescriptorConfig.{field}={getattr(self, field)!r}: {why}")

        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if f.name in ("sample_rate", "lpc_order"):
                if isinstance(v, bool) or not isinstance(v, int):
                    raise bad(f.name, "must be an integer")
            elif isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise bad(f.name, "must be a finite number")
        if not MIN_SAMPLE_RATE <= self.sample_rate <= MAX_SAMPLE_RATE:
            raise bad("sample_rate", f"must be between {MIN_SAMPLE_RATE} and {MAX_SAMPLE_RATE} Hz")
        for name in ("frame_shift_ms", "pitch_window_ms", "spectral_window_ms"):
            lo = 1.0 if name == "frame_shift_ms" else 5.0
            if not lo <= getattr(self, name) <= 1000.0:
                raise bad(name, f"must be between {lo:g} and 1000 ms")
        if self.frame_shift < 1:
            raise bad("frame_shift_ms", "is shorter than one sample")
        nyquist = self.sample_rate / 2.0
        if self.f0_min_hz < 20.0:
            raise bad("f0_min_hz", "must be >= 20")
        if not self.f0_min_hz < self.f0_max_hz <= nyquist / 2:
            raise bad("f0_max_hz", "must be above f0_min_hz and at most a quarter of the rate")
        if self.tau_min < 2:
            raise bad("f0_max_hz", "leaves fewer than 2 samples per period")
        if self.pitch_length - self.tau_max < self.tau_max:
            raise bad("pitch_window_ms", "must hold at least two periods of f0_min_hz")
        if not 0.0 < self.voicing_threshold < 1.0:
            raise bad("voicing_threshold", "must be in (0, 1)")
        if not -200.0 <= self.silence_dbfs <= 0.0:
            raise bad("silence_dbfs", "must be in [-200, 0]")
        for name in ("power_floor", "spectrum_floor"):
            if not 1e-30 <= getattr(self, name) <= 1e-6:
                raise bad(name, "must be in [1e-30, 1e-6]")
        if not 4 <= self.lpc_order <= 64:
            raise bad("lpc_order", "must be between 4 and 64")
        if self.lpc_order >= self.spectral_length:
            raise bad("lpc_order", "must be below the spectral window length")
        if not 90.0 < self.formant_max_hz <= nyquist:
            raise bad("formant_max_hz", "must be in (90, Nyquist]")
        if self.formant_max_bw_hz <= 0:
            raise bad("formant_max_bw_hz", "must be > 0")

    # ---- (de)serialisation -------------------------------------------------------------------
    @classmethod
    def pre_format_10(cls, **changes: Any) -> DescriptorConfig:
        """The defaults of bundles before format 10 (power floor 1e-10, spectrum floor 1e-12,
        silence gate -80 dBFS), with `changes`: what older bundles compute, for comparisons."""
        old = {f: v for f, (v, _) in LEGACY_FIELDS.items()}
        return cls(**{**old, "silence_dbfs": -80.0, **changes})

    @property
    def min_format_version(self) -> int:
        """The bundle format that can store this config: 5, or the version that introduced a
        field whose value differs from what a config without it meant."""
        versions = [v for f, (old, v) in LEGACY_FIELDS.items() if getattr(self, f) != old]
        return max([5, *versions])

    def to_dict(self) -> dict[str, Any]:
        """Every field, except a later field at its legacy value (so an older reader, which
        does not know the field, reads the same config)."""
        d = dataclasses.asdict(self)
        for f, (old, _) in LEGACY_FIELDS.items():
            if d[f] == old:
                del d[f]
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DescriptorConfig:
        """The config `to_dict` wrote; a later field it lacks takes its legacy value, and a
        missing older field its default."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown DescriptorConfig fields: {unknown}")
        fields: dict[str, Any] = {f: old for f, (old, _) in LEGACY_FIELDS.items()}
        fields.update(data)
        return cls(**fields)
