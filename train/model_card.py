"""The model card written beside an exported bundle: data, protocol, measured metrics, limits."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from edgeser.bundle import ModelBundle


PROTOCOL_TEXT = {
    "loso": "Speaker-independent, leave one speaker out: each speaker is tested by a model "
            "trained without them.",
    "random": "Random stratified split of utterances: test speakers are also in training, so "
              "this is NOT speaker-independent (for comparison with papers only).",
    "kfold": "Stratified k-fold over utterances: NOT speaker-independent.",
}


SELECTION_TEXT = {
    "val_ua": "The epoch kept is the one with the best UA on validation speakers (or "
              "utterances) drawn from the training part only.",
    "fixed": "Each fold trains a fixed number of epochs on its whole training part (no "
             "validation split) and keeps the last.",
}


def _pct(v: float) -> str:
    return f"{100 * v:.1f}%"


def write_model_card(bundle_path: Path, evaluation: Mapping[str, Any] | None,
                     command: str = "") -> Path:
    b = ModelBundle.load(bundle_path)
    m = b.meta
    fs = m.features
    members, seed = int(m.training.get("members", 1)), m.training.get("seed", "?")
    lines = [f"# {m.name}", "", m.description, "",
             f"- File: `{Path(bundle_path).name}` ({Path(bundle_path).stat().st_size / 1024:.1f}"
             f" KiB: {b.size_bytes / 1024:.1f} KiB {m.quantization} TFLite + metadata, e.g. "
             f"normalisation statistics)",
             f"- Labels: {', '.join(m.labels)}",
             f"- Input: {fs.type} features"
             + (f" `{fs.kind}` ({fs.dim} dims), windows of {fs.window_frames} frames every "
                f"{fs.hop_frames} frames, probabilities averaged over windows"
                if fs.type == "frontend" else f" `{fs.opensmile_set}` ({fs.dim} dims)")
             + ("" if fs.select is None else ", the functionals with the largest ANOVA F score "
                "on the training data (chosen inside each evaluation fold too)"),
             *([f"- Needs the `opensmile` extra at predict time (`pip install "
                f"edgeser[opensmile]`)"] if fs.type == "opensmile" else []),
             f"- Training: {m.training.get('trained_on', '?')}, {m.training.get('epochs', '?')} "
             f"epochs, seed {seed}, commit "
             f"`{str(m.training.get('git_commit', '?'))[:12]}`",
             *([f"- Ensemble of {members} networks, each trained alone (seed {seed} and the "
                f"next {members - 1}), in one graph that averages their probabilities"]
               if members > 1 else []), ""]
    if evaluation:
        lines += [f"## Evaluation ({evaluation['protocol']}, {evaluation['corpus']})", "",
                  PROTOCOL_TEXT.get(evaluation["protocol"], "") + " " +
                  SELECTION_TEXT.get(evaluation.get("config", {}).get("selection", "val_ua"), "") +
                  (" Utterance level (window probabilities averaged), pooled over folds."
                   if fs.type == "frontend" else " Pooled over folds."), "",
                  "| model | WA | UA | macro-F1 |", "|---|---|---|---|"]
        for q in ("float", "int8"):
            if q in evaluation:
                s = evaluation[q]
                lines.append(f"| {q} | {_pct(s['WA'])} | {_pct(s['UA'])} | "
                             f"{_pct(s['macro_F1'])} |")
        lines += ["", "Per-class recall (float): " + ", ".join(
            f"{k} {_pct(v)}" for k, v in evaluation["float"]["per_class_recall"].items()), ""]
    lines += ["## Data and limits", "",
              "- Trained on EmoDB (Berlin Database of Emotional Speech, Burkhardt et al. 2005): "
              "acted German speech, 10 actors (5 female, 5 male), 10 sentences, 535 utterances, "
              "studio quality." if m.training.get("corpus") == "emodb" else
              f"- Trained on {m.training.get('corpus')}.",
              "- Acted emotions are more intense than spontaneous ones; expect much lower "
              "accuracy on natural speech, other languages, noisy or far-field audio.",
              "- With only 10 speakers the figures above have wide confidence intervals.",
              "- Research use only (corpus licence); not for decisions about people.", ""]
    if command:
        lines += ["## Reproduce", "", f"    {command}", ""]
    path = Path(bundle_path).with_suffix(".md")
    path.write_text("\n".join(lines))
    return path
