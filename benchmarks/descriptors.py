"""edgeser's voice descriptors and functionals against openSMILE eGeMAPSv02 and Praat.

    python -m benchmarks.descriptors            # speed + oracles on 200 EmoDB files
    python -m benchmarks.descriptors --quick    # smoke test: 20 files, fewer timing repeats

Speed: the whole `edgeser-gemaps-v1` extraction (descriptors + MFCC + functionals, one thread)
against openSMILE's eGeMAPSv02 functionals on the same 1 / 3 / 10 s clips, in this process, best
of N (target: >= 30x faster).
Pitch: median absolute F0 error on synthetic harmonic signals with known F0 (80-400 Hz, target
< 2%); on EmoDB, voicing agreement with Praat's pitch tracker (parselmouth, `to_pitch` with the
same 10 ms step and 60-500 Hz range, each of our frames against Praat's nearest frame, target
>= 90%) and the median relative F0 difference on
frames both call voiced.
Functionals: Pearson correlation over the EmoDB files between each edgeser functional and its
eGeMAPSv02 counterpart. Table + JSON (benchmarks/results/descriptors.json).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results" / "descriptors.json"
RATE = 16000

# edgeser-gemaps-v1 functional -> its eGeMAPSv02 counterpart (same quantity; units may differ)
COUNTERPARTS = {
    "f0_semitone_mean": "F0semitoneFrom27.5Hz_sma3nz_amean",
    "f0_semitone_p20": "F0semitoneFrom27.5Hz_sma3nz_percentile20.0",
    "f0_semitone_p50": "F0semitoneFrom27.5Hz_sma3nz_percentile50.0",
    "f0_semitone_p80": "F0semitoneFrom27.5Hz_sma3nz_percentile80.0",
    "f0_semitone_range_20_80": "F0semitoneFrom27.5Hz_sma3nz_pctlrange0-2",
    "f0_semitone_rise_mean": "F0semitoneFrom27.5Hz_sma3nz_meanRisingSlope",
    "f0_semitone_fall_mean": "F0semitoneFrom27.5Hz_sma3nz_meanFallingSlope",
    "loudness_rel_cov": "loudness_sma3_stddevNorm",
    "loudness_rel_rise_mean": "loudness_sma3_meanRisingSlope",
    "jitter_local_voiced_mean": "jitterLocal_sma3nz_amean",
    "shimmer_local_db_voiced_mean": "shimmerLocaldB_sma3nz_amean",
    "hnr_db_voiced_mean": "HNRdBACF_sma3nz_amean",
    "f1_hz_voiced_mean": "F1frequency_sma3nz_amean",
    "f2_hz_voiced_mean": "F2frequency_sma3nz_amean",
    "f3_hz_voiced_mean": "F3frequency_sma3nz_amean",
    "f1_bw_hz_voiced_mean": "F1bandwidth_sma3nz_amean",
    "alpha_ratio_db_voiced_mean": "alphaRatioV_sma3nz_amean",
    "hammarberg_db_voiced_mean": "hammarbergIndexV_sma3nz_amean",
    "slope_0_500_voiced_mean": "slopeV0-500_sma3nz_amean",
    "slope_500_1500_voiced_mean": "slopeV500-1500_sma3nz_amean",
    "alpha_ratio_db_unvoiced_mean": "alphaRatioUV_sma3nz_amean",
    "hammarberg_db_unvoiced_mean": "hammarbergIndexUV_sma3nz_amean",
    "spectral_flux_mean": "spectralFlux_sma3_amean",
    "mfcc1_mean": "mfcc1_sma3_amean",
    "mfcc2_mean": "mfcc2_sma3_amean",
    "mfcc3_mean": "mfcc3_sma3_amean",
    "mfcc4_mean": "mfcc4_sma3_amean",
    "loudness_peaks_per_s": "loudnessPeaksPerSec",
    "voiced_segments_per_s": "VoicedSegmentsPerSec",
    "voiced_segment_s_mean": "MeanVoicedSegmentLengthSec",
    "unvoiced_segment_s_mean": "MeanUnvoicedSegmentLength",
}


def harmonic(f0: float, seconds: float = 1.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    x = sum(0.8**k * np.sin(2 * np.pi * k * f0 * t + rng.uniform(0, 6)) for k in range(1, 12))
    return (0.2 * x).astype(np.float32)


def synthetic_pitch() -> dict[str, Any]:
    from edgeser.frontend import descriptors

    errors = {}
    for f0 in (80, 100, 130, 170, 220, 280, 340, 400):
        d = descriptors.compute(harmonic(float(f0), seed=f0))
        est = d[:, 0]
        voiced = est > 0
        err = np.abs(est[voiced] - f0) / f0 if voiced.any() else np.array([1.0])
        errors[str(f0)] = {
            "median_rel_error_pct": float(100 * np.median(err)),
            "voiced_pct": float(100 * voiced.mean()),
        }
    worst = max(v["median_rel_error_pct"] for v in errors.values())
    return {"per_f0_hz": errors, "worst_median_rel_error_pct": worst}


def emodb_files(n: int) -> list[Path]:
    from train.shared_data import datasets_dir

    root = datasets_dir() / "emodb"
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in (".wav", ".flac"))
    if not files:
        raise SystemExit(f"no EmoDB audio under {root}")
    step = max(1, len(files) // n)
    return files[::step][:n]


def praat_agreement(x: np.ndarray, ours_f0: np.ndarray, cfg) -> tuple[int, int, list[float]]:
    """(frames compared, frames with the same voicing decision, relative F0 differences)."""
    import parselmouth

    snd = parselmouth.Sound(x.astype(np.float64), sampling_frequency=RATE)
    pitch = snd.to_pitch(
        time_step=cfg.frame_shift / RATE, pitch_floor=cfg.f0_min_hz, pitch_ceiling=cfg.f0_max_hz
    )
    centres = (np.arange(len(ours_f0)) * cfg.frame_shift + cfg.analysis_length / 2) / RATE
    times = pitch.xs()  # each of our frames against Praat's nearest frame
    nearest = np.clip(np.round((centres - times[0]) / pitch.time_step), 0, len(times) - 1)
    theirs = np.nan_to_num(pitch.selected_array["frequency"][nearest.astype(np.intp)], nan=0.0)
    agree = int(np.sum((theirs > 0) == (ours_f0 > 0)))
    both = (theirs > 0) & (ours_f0 > 0)
    diffs = list(np.abs(ours_f0[both] - theirs[both]) / theirs[both])
    return len(ours_f0), agree, diffs


def oracles(files: list[Path]) -> dict[str, Any]:
    import opensmile

    from edgeser.audio import load
    from edgeser.frontend import descriptors, functionals
    from edgeser.frontend.descriptor_config import DescriptorConfig

    cfg = DescriptorConfig()
    smile = opensmile.Smile(feature_set=opensmile.FeatureSet.eGeMAPSv02)
    names = functionals.FEATURE_SETS[functionals.SET_V1]
    ours, theirs = [], []
    frames = agree = 0
    diffs: list[float] = []
    for path in files:
        x = load(path, target_rate=RATE).samples
        d = descriptors.compute(x, cfg)
        n, a, df = praat_agreement(x, d[:, 0].astype(np.float64), cfg)
        frames, agree, diffs = frames + n, agree + a, diffs + df
        ours.append(functionals.extract(x, cfg=cfg))
        theirs.append(smile.process_signal(x, RATE))
    import pandas as pd

    table = pd.concat(theirs)
    ours_arr = np.stack(ours)
    corr = {}
    for name, other in COUNTERPARTS.items():
        a = ours_arr[:, names.index(name)].astype(np.float64)
        b = table[other].to_numpy(np.float64)
        ok = a.std() > 0 and b.std() > 0
        corr[name] = {"egemaps": other, "pearson_r": float(np.corrcoef(a, b)[0, 1]) if ok else None}
    rs = [v["pearson_r"] for v in corr.values() if v["pearson_r"] is not None]
    return {
        "files": len(files),
        "praat_voicing_agreement_pct": 100.0 * agree / max(frames, 1),
        "praat_f0_median_rel_diff_pct": 100.0 * float(np.median(diffs)) if diffs else None,
        "functional_correlation": corr,
        "median_pearson_r": float(np.median(rs)) if rs else None,
    }


def speed(repeats: int) -> dict[str, Any]:
    import opensmile

    from edgeser.frontend import functionals

    from ._harness import speech_like

    smile = opensmile.Smile(feature_set=opensmile.FeatureSet.eGeMAPSv02)
    out = {}
    for seconds in (1.0, 3.0, 10.0):
        x = np.asarray(speech_like(seconds, RATE), dtype=np.float32)
        functionals.extract(x)
        smile.process_signal(x, RATE)

        # Interleaved, so a change of machine load during the run hits both sides alike.
        ours, theirs = float("inf"), float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            functionals.extract(x)
            t1 = time.perf_counter()
            smile.process_signal(x, RATE)
            t2 = time.perf_counter()
            ours, theirs = min(ours, t1 - t0), min(theirs, t2 - t1)
        out[f"{seconds:g} s"] = {
            "edgeser_ms": 1000 * ours,
            "opensmile_egemaps_ms": 1000 * theirs,
            "speedup": theirs / ours,
        }
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="20 files, 3 timing repeats")
    ap.add_argument("--files", type=int, default=200, help="EmoDB files for the oracles")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    from edgeser.frontend import descriptors

    if descriptors.backend() != "cpp":
        print(
            "warning: the C++ extension is not built; timing the NumPy reference", file=sys.stderr
        )
    result: dict[str, Any] = {"backend": descriptors.backend()}
    result["speed"] = speed(3 if args.quick else 20)
    result["synthetic_pitch"] = synthetic_pitch()
    result["emodb"] = oracles(emodb_files(20 if args.quick else args.files))
    print("| clip | edgeser-gemaps-v1 ms | openSMILE eGeMAPSv02 ms | speed-up |")
    print("|---|---|---|---|")
    for k, v in result["speed"].items():
        ms, theirs = v["edgeser_ms"], v["opensmile_egemaps_ms"]
        print(f"| {k} | {ms:.2f} | {theirs:.1f} | {v['speedup']:.0f}x |")
    sp = result["synthetic_pitch"]
    print(f"\nsynthetic F0: worst median error {sp['worst_median_rel_error_pct']:.2f}% (80-400 Hz)")
    e = result["emodb"]
    print(
        f"EmoDB ({e['files']} files): voicing agreement with Praat "
        f"{e['praat_voicing_agreement_pct']:.1f}%, median F0 difference "
        f"{e['praat_f0_median_rel_diff_pct']:.2f}% on frames both call voiced"
    )
    print("\n| edgeser functional | eGeMAPSv02 | r |\n|---|---|---|")
    for k, v in e["functional_correlation"].items():
        r = "-" if v["pearson_r"] is None else f"{v['pearson_r']:.2f}"
        print(f"| {k} | {v['egemaps']} | {r} |")
    print(f"median r: {e['median_pearson_r']:.2f}")
    from train.report import write_json

    write_json(args.out, result)
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
