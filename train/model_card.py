"""The model card written beside an exported bundle: data, protocol, measured metrics, limits."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from edgeser.bundle import ModelBundle
from edgeser.feature_configs import FrontendFeatures, FunctionalFeatures, OpenSmileFeatures
from edgeser.frontend.functionals import LARGE_SETS, SET_LARGE_V1

PROTOCOL_TEXT = {
    "loso": "Speaker-independent, leave one speaker out: each speaker is tested by a model "
    "trained without them.",
    "random": "Random stratified split of utterances: test speakers are also in training, so "
    "this is NOT speaker-independent (for comparison with papers only).",
    "kfold": "Stratified k-fold over utterances: NOT speaker-independent.",
    "loco": "Leave one corpus out: each corpus is tested by a model trained on the others "
    "only (other speakers, languages, studios and microphones): the estimate of how "
    "the model does on a user's recordings.",
    "group_kfold": "Speaker-group k-fold over the pooled corpora: each fold tests unseen "
    "speakers of every corpus (the corpora themselves were seen in training).",
}

# What a card says about each shared corpus: description and licence (../shared/datasets).
CORPUS_CARDS = {
    "emodb": (
        "EmoDB (Berlin Database of Emotional Speech, Burkhardt et al. 2005): acted "
        "German, 10 actors (5 female, 5 male), 10 sentences, 535 utterances, studio quality",
        "research use",
    ),
    "casia": (
        "CASIA Chinese emotional speech, public 1200-utterance subset: acted Mandarin, 4 speakers",
        "research use (Institute of Automation, CAS)",
    ),
    "ravdess": (
        "RAVDESS speech (Livingstone & Russo 2018): acted North-American English, 24 "
        "actors, 1440 utterances",
        "CC BY-NC-SA 4.0",
    ),
    "emovo": (
        "EMOVO (Costantini et al. 2014): acted Italian, 6 actors, 588 utterances",
        "research use",
    ),
    "turev": (
        "TurEV-DB: acted Turkish single words, 6 speakers, 1735 words (Calm used as neutral)",
        "CC BY-NC-ND 4.0 / GPL-3.0 (conflicting): research only",
    ),
    "korean": (
        "Korean emotional TTS corpus, public 5% sample: read Korean, 15 speakers, 300 utterances",
        "research use only, not commercial (KAIST / SELVAS AI)",
    ),
}
AUGMENT_DATA = (
    "real noise recordings (UrbanSound8K, ESC-50, Speech Commands background, "
    "DCASE and toolkit test clips; CC BY / CC BY-NC / MIT / Apache-2.0) and "
    "measured room impulse responses (OpenAIR, Pori concert hall, clap IRs; "
    "public domain to CC BY-NC-SA) from ../shared/noise, train split only; babble "
    "from other speakers of the same corpus; white/pink/brown noise"
)


SELECTION_TEXT = {
    "val_ua": "The epoch kept is the one with the best UA on validation speakers (or "
    "utterances) drawn from the training part only.",
    "fixed": "Each fold trains a fixed number of epochs on its whole training part (no "
    "validation split) and keeps the last.",
}


# What a protocol suffix adds (`train.config.PROTOCOL_SUFFIX`): test-side statistics.
SUFFIX_TEXT = {
    "+speaker_norm": "Each test speaker's vectors are z-scored with all of that speaker's own "
    "(unlabelled) clips at once: an upper bound of speaker calibration.",
    "+running_speaker_norm": "Each test speaker's clips are replayed one by one through a fresh "
    "speaker calibration (running statistics of that speaker's unlabelled clips so far, blended "
    "with the training population's), as a device calibrates on its user: the held-out "
    "corpus' audio, never its labels, is used.",
    "+neutral_heavy_speaker_norm": "Each test speaker is calibrated on a mostly neutral sample "
    "of its unlabelled clips.",
    "+corpus_norm": "The test corpus is z-scored with its own unlabelled statistics.",
}


_LEVELS = "docs/experiments.md#robustness-of-the-calibrated-functional-model"


def _level_line(fs: FunctionalFeatures) -> str:
    """What the set's level tests check (tests/frontend/test_*functionals.py) and what is left
    on real recordings with digital silence (benchmarks.functional_levels)."""
    test = "test_large_functionals" if fs.feature_set in LARGE_SETS else "test_functionals"
    line = (
        "- Input level: the edgeser functionals are level-independent by construction "
        f"(`tests/frontend/{test}.py` checks -30..+6 dB gains)."
    )
    if fs.descriptors.min_format_version < 10:
        return line + (
            " Not on recordings with stretches of digital silence: the descriptors' floors of "
            f"bundles before format 10 make many values move at -30 dB ({_LEVELS})."
        )
    if fs.feature_set == SET_LARGE_V1:
        return line + (
            " On recordings with digital silence the spectral deltas of the frames next to it "
            f"still move with the level (a few % of the values at -30 dB; {_LEVELS}); "
            "edgeser-large-v2 takes them inside active runs."
        )
    return line + (
        " Digital silence included: the descriptors' floors sit far below any recording "
        f"(`python -m benchmarks.functional_levels`; {_LEVELS})."
    )


def _protocol_text(protocol: str) -> str:
    """The card's sentence for a protocol name such as ``loco+running_speaker_norm``."""
    base, *suffixes = protocol.split("+")
    return " ".join(
        [PROTOCOL_TEXT.get(base, "")] + [SUFFIX_TEXT.get("+" + x, "") for x in suffixes]
    ).strip()


def _pct(v: float) -> str:
    return f"{100 * v:.1f}%"


def _data_lines(training: Mapping[str, Any], mel_frames: bool = True) -> list[str]:
    """What the model was trained on; `mel_frames`: it reads front-end mel frames (VTLP warps
    their filters and SpecAugment masks them; functional models get neither)."""
    names = [n for n in str(training.get("corpus", "")).split(",") if n]
    counts = training.get("utterances_per_corpus") or {}
    out = []
    for n in names:
        what, licence = CORPUS_CARDS.get(n, (n, "see the corpus"))
        used = f"; {counts[n]} utterances used" if n in counts else ""
        out.append(f"- Trained on {what}{used}. Licence: {licence}.")
    if training.get("labels") in ("core", "extended"):
        out.append(
            f"- Label set: {training['labels']} (one map for every corpus: `train/corpora.py`)."
        )
    aug = training.get("augment") or {}
    if not aug.get("copies"):
        out.append("- Augmentation: none (the original recordings only; no noise data).")
    else:
        out.append(
            f"- Augmentation: {aug['copies']} copies per training utterance with "
            f"{AUGMENT_DATA}; telephone band, "
            + ("VTLP and gain; SpecAugment. " if mel_frames else "and gain. ")
            + "Test parts and int8 calibration saw original audio only."
        )
    return out


def _robustness_lines(rob: Mapping[str, Any]) -> list[str]:
    lines = [
        f"## Robustness ({rob.get('protocol', '')})",
        "",
        "`python -m benchmarks.robustness`: UA on the 4-class core under each condition "
        "(runtime path, voice gate on; noise and rooms from the test split of "
        "../shared/noise, never used in training).",
        "",
        "| condition | UA | label = clean | no speech |",
        "|---|---|---|---|",
    ]
    for r in rob["conditions"]:
        lines.append(
            f"| {r['condition']} | {_pct(r['UA'])} | {_pct(r['same_as_clean'])} | "
            f"{_pct(r['no_speech'])} |"
        )
    lines.append("")
    return lines


KEEP_START = "<!-- kept: written by hand, kept when the card is regenerated -->"
KEEP_END = "<!-- /kept -->"


def kept_blocks(text: str) -> list[str]:
    """The hand-written blocks of a card (KEEP_START ... KEEP_END, markers included), in order;
    an unclosed block is refused rather than silently dropped."""
    blocks, rest = [], text
    while KEEP_START in rest:
        start = rest.index(KEEP_START)
        end = rest.find(KEEP_END, start)
        if end < 0:
            raise ValueError(f"a card's kept block has no closing {KEEP_END!r}")
        blocks.append(rest[start : end + len(KEEP_END)])
        rest = rest[end + len(KEEP_END) :]
    return blocks


def write_model_card(
    bundle_path: Path,
    evaluation: Mapping[str, Any] | None,
    command: str = "",
    robustness: Mapping[str, Any] | None = None,
) -> Path:
    b = ModelBundle.load(bundle_path)
    m = b.meta
    fs = m.features
    windows = isinstance(fs, FrontendFeatures)
    members, seed = int(m.training.get("members", 1)), m.training.get("seed", "?")
    lines = [
        f"# {m.name}",
        "",
        m.description,
        "",
        f"- File: `{Path(bundle_path).name}` ({Path(bundle_path).stat().st_size / 1024:.1f}"
        f" KiB: {b.size_bytes / 1024:.1f} KiB {m.quantization} TFLite + metadata, e.g. "
        f"normalisation statistics); bundle format {m.format_version} (docs/bundle-format.md: "
        "an older runtime refuses a newer format)",
        *(
            [
                f"- Voice gate: the loudness gate, then the learned gate "
                f"[`{m.speech_detector}`](detectors/{m.speech_detector}.md), which answers "
                f'"no speech" for most noise, music, tones and clicks (rates on held-out '
                f"recordings in its card)"
            ]
            if m.speech_detector
            else []
        ),
        f"- Labels: {', '.join(m.labels)}",
        f"- Input: {fs.type} features"
        + (
            f" {fs.describe()}; probabilities averaged over windows"
            if isinstance(fs, FrontendFeatures)
            else f" `{getattr(fs, 'opensmile_set', None) or fs.feature_set}` ({fs.dim} dims)"
        )
        + (
            ", the functionals with the largest ANOVA F score on the training data (chosen "
            "inside each evaluation fold too)"
            if not isinstance(fs, FrontendFeatures) and fs.select is not None
            else ""
        ),
        *(
            ["- Needs the `opensmile` extra at predict time (`pip install edgeser[opensmile]`)"]
            if isinstance(fs, OpenSmileFeatures)
            else []
        ),
        f"- Training: {m.training.get('trained_on', '?')}, {m.training.get('epochs', '?')} "
        f"epochs, seed {seed}, commit "
        f"`{str(m.training.get('git_commit', '?'))[:12]}`",
        *(
            [
                f"- Ensemble of {members} networks, each trained alone (seed {seed} and the "
                f"next {members - 1}), in one graph that averages their probabilities"
            ]
            if members > 1
            else []
        ),
        "",
    ]
    if evaluation:
        lines += [
            f"## Evaluation ({evaluation['protocol']}, {evaluation['corpus']})",
            "",
            _protocol_text(evaluation["protocol"])
            + " "
            + SELECTION_TEXT.get(evaluation.get("config", {}).get("selection", "val_ua"), "")
            + (
                " Utterance level (window probabilities averaged), pooled over folds."
                if windows
                else " Pooled over folds."
            ),
            "",
            "| model | WA | UA | macro-F1 |",
            "|---|---|---|---|",
        ]
        for q in ("float", "int8"):
            if q in evaluation:
                s = evaluation[q]
                lines.append(f"| {q} | {_pct(s['WA'])} | {_pct(s['UA'])} | {_pct(s['macro_F1'])} |")
        lines += [
            "",
            "Per-class recall (float): "
            + ", ".join(
                f"{k} {_pct(v)}" for k, v in evaluation["float"]["per_class_recall"].items()
            ),
            "",
        ]
        per = evaluation.get("per_corpus")
        if per:
            lines += [
                "| test corpus | " + " | ".join(f"{q} WA / UA" for q in per) + " |",
                "|---|" + "---|" * len(per),
            ]
            for name in per["float"]:
                lines.append(
                    f"| {name} | "
                    + " | ".join(
                        f"{_pct(per[q][name]['WA'])} / {_pct(per[q][name]['UA'])}" for q in per
                    )
                    + " |"
                )
            lines.append("")
    if robustness:
        lines += _robustness_lines(robustness)
    path = Path(bundle_path).with_suffix(".md")
    for block in kept_blocks(path.read_text()) if path.is_file() else []:
        lines += [block, ""]  # before "Data and limits", where they were written
    multi = "," in str(m.training.get("corpus", ""))
    lines += [
        "## Data and limits",
        "",
        *_data_lines(m.training, isinstance(fs, FrontendFeatures)),
        _level_line(fs) if isinstance(fs, FunctionalFeatures) else "",
        ""
        if multi or robustness
        else "- Not measured for this model: leave-one-corpus-out and robustness (it knows "
        "one corpus; for speech it was not trained on, see the default model's card).",
        "- Acted emotions are more intense than spontaneous ones; expect much lower "
        "accuracy on natural speech, other languages, noisy or far-field audio.",
        "- The leave-one-corpus-out figures are the honest estimate for new speech; "
        "within-corpus figures are much higher and do not transfer."
        if multi
        else "- With only 10 speakers the figures above have wide confidence intervals.",
        "- Research use only (corpus licences, several non-commercial); not for "
        "decisions about people.",
        "",
    ]
    lines = [ln for i, ln in enumerate(lines) if ln or not (i and lines[i - 1] == "" and ln == "")]
    if command:
        lines += ["## Reproduce", "", f"    {command}", ""]
    path.write_text("\n".join(lines))
    return path
