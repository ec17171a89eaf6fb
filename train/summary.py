"""One Markdown table row per evaluated run, read back from its report.json, or per published
model, read from the evaluation its bundle carries: so a results table (recipes/RESULTS.md, a
sweep's) is regenerated from the runs and models themselves instead of copied by hand."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .report import EVALUATION_DIR, REPORT_FILE

COLUMNS = (
    "run",
    "corpus, protocol",
    "model (features)",
    "seed",
    "epochs",
    "float WA / UA",
    "int8 WA / UA",
    "int8 size",
    "run time",
)
SORT_KEYS = ("none", "ua", "int8_ua")


@dataclass(frozen=True)
class RunSummary:
    """The figures of one `evaluate` report that a results table shows."""

    run: str
    corpus: str
    protocol: str
    model: str
    features: str
    seed: int
    epochs: str
    float_wa: float
    float_ua: float
    int8_wa: float | None
    int8_ua: float | None
    int8_bytes: int | None
    seconds: float | None
    corpus_ua: float | None = None  # several test corpora: mean of their UAs (float)
    corpus_ua_int8: float | None = None

    @classmethod
    def from_report(cls, run: str, r: Mapping[str, Any]) -> RunSummary:
        try:
            f = r["float"]
            i = r.get("int8")
            per = r.get("per_corpus") or {}
            return cls(
                corpus_ua=per["float"]["mean"]["UA"] if "float" in per else None,
                corpus_ua_int8=per["int8"]["mean"]["UA"] if "int8" in per else None,
                run=run,
                corpus=r["corpus"],
                protocol=r["protocol"],
                model=_model_label(r),
                features=_features_label(r),
                seed=int(r["seed"]),
                epochs=_epochs_label(r),
                float_wa=float(f["WA"]),
                float_ua=float(f["UA"]),
                int8_wa=None if i is None else float(i["WA"]),
                int8_ua=None if i is None else float(i["UA"]),
                int8_bytes=r.get("int8_bytes_max"),
                seconds=None if r.get("seconds") is None else float(r["seconds"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{run}: not an `evaluate` report (missing or bad {exc})") from None

    def row(self, per_corpus: bool = False) -> str:
        def pair(wa: float | None, ua: float | None) -> str:
            return "-" if wa is None or ua is None else f"{100 * wa:.1f} / {100 * ua:.1f}"

        size = "-" if self.int8_bytes is None else f"{self.int8_bytes:,} B"
        cells = (
            self.run,
            f"{self.corpus}, {self.protocol}",
            f"{self.model} ({self.features})",
            str(self.seed),
            self.epochs,
            pair(self.float_wa, self.float_ua),
            pair(self.int8_wa, self.int8_ua),
            size,
            "-" if self.seconds is None else f"{self.seconds:.0f} s",
        )
        if per_corpus:
            cells = (
                cells[:7]
                + (
                    "-"
                    if self.corpus_ua is None
                    else f"{100 * self.corpus_ua:.1f} / "
                    + ("-" if self.corpus_ua_int8 is None else f"{100 * self.corpus_ua_int8:.1f}"),
                )
                + cells[7:]
            )
        return "| " + " | ".join(cells) + " |"


def _features_label(r: Mapping[str, Any]) -> str:
    f, cfg = r["features"], r.get("config") or {}
    if f["type"] == "opensmile":
        label = f["opensmile_set"]
    elif f["type"] == "functionals":  # a run's FeatureChoice, or a bundle's FunctionalFeatures
        label = f.get("functional_set") or f["feature_set"]
    else:
        n_mels = (f.get("frontend") or {}).get("n_mels")
        label = f["kind"] + (f" {n_mels}" if f["kind"] == "log_mel" and n_mels else "")
        if cfg.get("window_s"):
            label += f", {cfg['window_s']:g} s windows"
        if cfg.get("window_norm", "none") != "none":
            label += f", window {cfg['window_norm']}-norm"
        if cfg.get("window_floor_db"):
            label += f", floor {cfg['window_floor_db']:g} dB"
    select = cfg.get("select_features")
    return label + (f", {select} selected" if select else "")


def _epochs_label(r: Mapping[str, Any]) -> str:
    """Maximum epochs and how the kept epoch was chosen (median best epoch under val_ua)."""
    cfg = r.get("config") or {}
    if "final_epochs" in r:  # a published model: the epochs of its final fit on all data
        return f"{r['final_epochs']} (final fit)"
    if "epochs" not in cfg:
        return "-"
    if cfg.get("selection") == "fixed":
        return f"{cfg['epochs']} (fixed)"
    return f"{cfg['epochs']} (best {r.get('median_best_epoch', '?')})"


def _model_label(r: Mapping[str, Any]) -> str:
    spec = r.get("model_spec") or {}
    label = r["model"]
    if spec.get("hparams"):
        label += " " + json.dumps(spec["hparams"], separators=(",", ":"), sort_keys=True)
    if spec.get("members", 1) > 1:
        label += f" x{spec['members']} members"
    return label


def report_path(run: Path) -> Path:
    """The report of a run: `run` itself when it is a file, else `run/report.json`, else
    `run/evaluation/report.json` (the layout `python -m train run` writes)."""
    if run.is_file():
        return run
    candidates = (run / REPORT_FILE, run / EVALUATION_DIR / REPORT_FILE)
    for p in candidates:
        if p.is_file():
            return p
    raise FileNotFoundError(
        f"{run}: no {REPORT_FILE} (neither {candidates[0]} nor {candidates[1]})"
    )


def bundle_report(path: Path) -> dict[str, Any]:
    """The report-shaped figures a published model's bundle carries (`training` metadata:
    corpus, protocol, seed, pooled and per-corpus metrics of its evaluation)."""
    from edgeser.bundle import ModelBundle
    from edgeser.errors import BundleError
    from edgeser.feature_configs import FrontendFeatures

    try:
        b = ModelBundle.load(path)
    except BundleError as exc:
        raise ValueError(str(exc)) from None
    t, f = dict(b.meta.training), b.meta.features
    metrics = t.get("metrics") or {}
    config: dict[str, Any] = {}
    if isinstance(f, FrontendFeatures):
        config["window_s"] = f.window_frames * f.frontend.frame_shift_ms / 1000.0
    members = int(t.get("members", 1))
    return {
        "corpus": t.get("corpus"),
        "protocol": t.get("protocol"),
        "model": t.get("model"),
        "seed": t.get("seed"),
        "final_epochs": t.get("epochs", "?"),
        "config": config,
        "model_spec": {"members": members},
        "features": f.to_dict(),
        "float": metrics.get("float"),
        "int8": metrics.get("int8"),
        "per_corpus": t.get("per_corpus"),
        "int8_bytes_max": b.size_bytes if b.meta.quantization == "int8" else None,
        "seconds": None,
    }


def load_summary(run: Path) -> RunSummary:
    if run.suffix == ".edgeser":
        return RunSummary.from_report(run.name, bundle_report(run))
    path = report_path(run)
    try:
        r = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: unreadable report ({exc})") from None
    if not isinstance(r, dict):
        raise ValueError(f"{path}: not an `evaluate` report (not a JSON object)")
    return RunSummary.from_report(str(run), r)


def summary_table(runs: Sequence[RunSummary], sort: str = "none") -> str:
    """Markdown table of `runs`, in the given order or best UA first."""
    if sort not in SORT_KEYS:
        raise ValueError(f"sort must be one of {SORT_KEYS}")
    rows = list(runs)
    if sort == "ua":
        rows.sort(key=lambda s: -s.float_ua)
    elif sort == "int8_ua":
        rows.sort(key=lambda s: -(s.int8_ua if s.int8_ua is not None else -1.0))
    per = any(s.corpus_ua is not None for s in rows)
    cols = COLUMNS[:7] + ("mean corpus UA float / int8",) + COLUMNS[7:] if per else COLUMNS
    head = "| " + " | ".join(cols) + " |\n|" + "---|" * len(cols)
    return "\n".join([head] + [s.row(per) for s in rows])


PROTOCOL_NOTES = {
    "loso": "leave-one-speaker-out (every speaker is a test fold once)",
    "loco": "leave-one-corpus-out (every corpus is a test fold once; the model never heard "
    "its language, speakers or recording conditions)",
    "group_kfold": "speaker-group k folds (every fold tests unseen speakers of every corpus)",
    "kfold": "stratified k folds over utterances (speakers shared: NOT speaker-independent)",
    "random": "random split (speakers shared between parts: NOT speaker-independent, for "
    "comparison with papers only)",
    "+running_speaker_norm": "suffix: every test speaker's clips were replayed one by one "
    "through a speaker calibration (their unlabelled audio is used, as a device calibrates "
    "on its user)",
}


def results_page(table: str, command: str) -> str:
    """A Markdown page around `table`, saying how it was made so it is never edited by hand."""
    return "\n".join(
        [
            "# Results",
            "",
            f"Written by `{command}`; regenerate it instead of editing it. WA / UA in %, pooled "
            "over the test folds of each model's evaluation (a published model's row comes from "
            "the evaluation its bundle carries; the final model is then fitted on all data). "
            '"mean corpus UA" is the mean of the per-corpus UAs under leave-one-corpus-out.',
            "",
            table,
            "",
            "Protocols: " + "; ".join(f"`{k}` = {v}" for k, v in PROTOCOL_NOTES.items()) + ".",
            "",
        ]
    )
