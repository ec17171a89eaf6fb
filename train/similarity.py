"""Multi-level SER (Leiden thesis "Feature Extraction from Spectrums for Speech Emotion
Recognition"): class similarity by hashing (stage 0), then a coarse and a fine model (stages 1
and 2) that form a cascade.

Stage 0 (`class_similarity`): for a `fraction` (10%) sample of each class, the log spectrogram
of each clip is drawn as an image (frequency rows, high at the top; time columns), resized to
`size` x `size` by area averaging, mapped to 256 grey levels, and hashed by the average hash
(bit = pixel >= the image's mean grey level). Each class's hash is the per-bit majority of its
sampled clips' hashes (ties give 1). Classes are compared by the Hamming distance of their
hashes; the most similar pair forms the high-similarity set S (grown greedily to `set_size`
classes by the smallest largest distance to its members).

Stage 1 (coarse): every class, with the members of S merged into one class named
``"a+b"`` (`merged_label`). Stage 2 (fine): only the utterances of S, over S's classes. The
cascade: the coarse model decides; if it picks the merged class, the fine model chooses within
S. `evaluate_multilevel` evaluates both stages with `recipe.evaluate` on the same
speaker-held-out folds and scores the cascade from their saved utterance probabilities;
`fit_multilevel` trains both stages on every utterance and `export_cascade` writes them as one
bundle: one graph whose outputs are both stages' probabilities, and a cascade head
(`edgeser.heads.CascadeHead`) that the runtime applies after averaging the windows, as the
evaluation does with the utterance probabilities.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .corpora import Corpus, read_audio
from .features import FeatureTable
from .metrics import scores

log = logging.getLogger(__name__)

IMAGE_KINDS = ("spectrogram", "log_mel")
NOT_RUN = "(S, fine model not run)"  # cascade confusion column: routed to S from outside it


# ---- stage 0: average hashes ----------------------------------------------------------------
def _area_weights(n_in: int, n_out: int) -> np.ndarray:
    """[n_out, n_in] matrix averaging the input cells each output cell covers (fractional
    overlaps weighted); works for shrinking and for stretching."""
    edges = np.linspace(0.0, n_in, n_out + 1)
    lo, hi = edges[:-1, None], edges[1:, None]
    j = np.arange(n_in)[None, :]
    overlap = np.clip(np.minimum(hi, j + 1) - np.maximum(lo, j), 0.0, None)
    return overlap / overlap.sum(axis=1, keepdims=True)


def resize_area(image: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """`image` [r, c] resized to [rows, cols] by area averaging."""
    image = np.asarray(image, np.float64)
    return _area_weights(image.shape[0], rows) @ image @ _area_weights(image.shape[1], cols).T


def grey_levels(image: np.ndarray, levels: int = 256) -> np.ndarray:
    """The image's values mapped linearly from [min, max] to integer grey levels 0..levels-1
    (a constant image is all 0)."""
    image = np.asarray(image, np.float64)
    lo, hi = float(image.min()), float(image.max())
    if hi <= lo:
        return np.zeros(image.shape, np.int64)
    return np.round((image - lo) / (hi - lo) * (levels - 1)).astype(np.int64)


def average_hash(image: np.ndarray, size: int = 16) -> np.ndarray:
    """The average hash of an image [rows, cols]: resized to size x size, grey levels, bit =
    pixel >= mean. Returns size*size bools, row by row."""
    if size < 2:
        raise ValueError(f"hash size must be >= 2, got {size}")
    grey = grey_levels(resize_area(image, size, size))
    return (grey >= grey.mean()).reshape(-1)


def majority_hash(hashes: np.ndarray) -> np.ndarray:
    """Per-bit majority of hashes [n, bits] (ties give 1)."""
    hashes = np.asarray(hashes, bool)
    return hashes.mean(axis=0) >= 0.5


def hamming_matrix(hashes: np.ndarray) -> np.ndarray:
    """Pairwise Hamming distances of hashes [classes, bits]."""
    h = np.asarray(hashes, bool)
    return (h[:, None, :] != h[None, :, :]).sum(axis=2)


def similar_set(distances: np.ndarray, set_size: int = 2) -> list[int]:
    """Indices of the high-similarity set: the closest pair (ties: earliest), grown to
    `set_size` members by adding the class with the smallest largest distance to the set."""
    d = np.asarray(distances, np.float64)
    n = len(d)
    if not 2 <= set_size <= n:
        raise ValueError(f"set size must be between 2 and the {n} classes, got {set_size}")
    masked = d + np.diag(np.full(n, np.inf))
    a, b = np.unravel_index(int(np.argmin(masked)), masked.shape)
    members = sorted((int(a), int(b)))
    while len(members) < set_size:
        rest = [i for i in range(n) if i not in members]
        members.append(min(rest, key=lambda i: (d[i, members].max(), i)))
    return sorted(members)


def hex_bits(bits: np.ndarray) -> str:
    """A bit string as hex (row-major bits, most significant first)."""
    return np.packbits(np.asarray(bits, np.uint8)).tobytes().hex()


@dataclass
class SimilarityResult:
    labels: tuple[str, ...]
    size: int
    hashes: np.ndarray  # [classes, size*size] bool (majority hashes)
    distances: np.ndarray  # [classes, classes] Hamming distances
    similar: list[str]  # the high-similarity set S, in label order
    n_sampled: dict[str, int]
    sampled: dict[str, list[str]] | None = None  # utterance keys per class

    def to_dict(self) -> dict[str, Any]:
        idx = [self.labels.index(c) for c in self.similar]
        return {
            "labels": list(self.labels),
            "hash_size": self.size,
            "bits": self.size * self.size,
            "hashes": {c: hex_bits(h) for c, h in zip(self.labels, self.hashes)},
            "distances": self.distances.astype(int).tolist(),
            "S": list(self.similar),
            "S_max_distance": int(self.distances[np.ix_(idx, idx)].max()),
            "n_sampled": dict(self.n_sampled),
            "sampled": self.sampled,
        }

    def table(self) -> str:
        """The distance matrix as aligned text, S below it."""
        w = max(6, *(len(c) for c in self.labels)) + 1
        lines = [" " * w + "".join(f"{c:>{w}}" for c in self.labels)]
        for c, row in zip(self.labels, self.distances):
            lines.append(f"{c:<{w}}" + "".join(f"{int(v):>{w}}" for v in row))
        idx = [self.labels.index(c) for c in self.similar]
        lines.append(
            f"S = {{{', '.join(self.similar)}}} (Hamming distance "
            f"{int(self.distances[np.ix_(idx, idx)].max())} of {self.size * self.size} bits; "
            "sampled " + ", ".join(f"{c} {n}" for c, n in self.n_sampled.items()) + ")"
        )
        return "\n".join(lines)


def similarity_from_images(
    images: dict[str, list[np.ndarray]], size: int = 16, set_size: int = 2
) -> SimilarityResult:
    """Stage 0 on given images per class ([rows, cols] each, any value range)."""
    labels = tuple(images)
    if len(labels) < 2:
        raise ValueError("class similarity needs at least two classes")
    hashes = []
    for c in labels:
        if not images[c]:
            raise ValueError(f"class {c!r} has no image")
        hashes.append(majority_hash(np.stack([average_hash(im, size) for im in images[c]])))
    h = np.stack(hashes)
    d = hamming_matrix(h)
    similar = [labels[i] for i in similar_set(d, set_size)]
    return SimilarityResult(labels, size, h, d, similar, {c: len(images[c]) for c in labels})


def spectrogram_image(x: np.ndarray, frontend, kind: str = "spectrogram") -> np.ndarray:
    """A clip's log spectrogram (or log-mel) image: [frequency rows, high first; time columns]."""
    from edgeser.frontend import features as frontend_features

    if kind not in IMAGE_KINDS:
        raise ValueError(f"image kind must be one of {IMAGE_KINDS}, got {kind!r}")
    if kind == "spectrogram":
        f = frontend_features(x, frontend, "spectrogram+log_mel")[:, : frontend.n_bins]
    else:
        from edgeser.frontend import features

        f = features(x, frontend, "log_mel")
    return np.asarray(f, np.float64).T[::-1]


def sample_per_class(
    corpus: Corpus, fraction: float, seed: int, minimum: int = 1
) -> dict[str, list[int]]:
    """Positions of a `fraction` sample of each class's utterances (at least `minimum`)."""
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    rng = np.random.default_rng(seed)
    labels = np.array([u.label for u in corpus.utterances])
    out = {}
    for c in corpus.labels:
        members = np.flatnonzero(labels == c)
        if len(members) == 0:
            continue
        k = min(len(members), max(minimum, int(round(fraction * len(members)))))
        out[c] = sorted(rng.choice(members, size=k, replace=False).tolist())
    return out


def class_similarity(
    corpus: Corpus,
    size: int = 16,
    fraction: float = 0.1,
    seed: int = 0,
    frontend=None,
    image: str = "spectrogram",
    set_size: int = 2,
) -> SimilarityResult:
    """Stage 0 on a corpus: hash a `fraction` sample of each class's clips (see the module
    docstring); `frontend` defaults to the default `FrontendConfig`."""
    from edgeser.frontend import FrontendConfig

    frontend = frontend or FrontendConfig()
    picks = sample_per_class(corpus, fraction, seed)
    images: dict[str, list[np.ndarray]] = {}
    sampled: dict[str, list[str]] = {}
    for c, positions in picks.items():
        for i in positions:
            u = corpus.utterances[i]
            try:
                im = spectrogram_image(read_audio(u.path), frontend, image)
            except (OSError, ValueError) as exc:
                log.warning("similarity: skipping %s: %s", u.path, exc)
                continue
            if im.size == 0:
                continue
            images.setdefault(c, []).append(im)
            sampled.setdefault(c, []).append(u.key)
    result = similarity_from_images(images, size, set_size)
    result.sampled = sampled
    return result


# ---- stages 1 and 2: coarse and fine tables ---------------------------------------------------
def merged_label(similar) -> str:
    """Name of the coarse model's class that stands for every member of S."""
    return "+".join(similar)


def _check_set(table: FeatureTable, similar) -> list[str]:
    similar = list(similar)
    missing = [c for c in similar if c not in table.labels]
    if len(similar) < 2 or missing or len(set(similar)) != len(similar):
        raise ValueError(
            f"the similar set must name >= 2 distinct classes of {list(table.labels)}; "
            f"got {similar}"
        )
    return [c for c in table.labels if c in similar]  # label order


def coarse_labels(labels, similar) -> tuple[str, ...]:
    """The coarse model's classes: the others in order, the merged class where S's first
    member was."""
    first = min(list(labels).index(c) for c in similar)
    out = [c for i, c in enumerate(labels) if c not in similar or i == first]
    return tuple(merged_label(similar) if c in similar else c for c in out)


def merge_classes(table: FeatureTable, similar) -> FeatureTable:
    """The table with the classes of S merged into one (stage 1)."""
    similar = _check_set(table, similar)
    new = coarse_labels(table.labels, similar)
    index = {c: new.index(merged_label(similar) if c in similar else c) for c in table.labels}
    remap = np.array([index[c] for c in table.labels], dtype=np.int64)
    return FeatureTable(
        table.choice,
        new,
        list(table.keys),
        list(table.feats),
        remap[table.y],
        table.speakers,
        list(table.skipped),
        table.corpora,
        balance_copy=table.balance_copy,
    )


def restrict_classes(table: FeatureTable, similar) -> FeatureTable:
    """Only the utterances of S, over S's classes (stage 2)."""
    similar = _check_set(table, similar)
    remap = np.full(len(table.labels), -1, dtype=np.int64)
    for i, c in enumerate(similar):
        remap[table.labels.index(c)] = i
    keep = np.flatnonzero(remap[table.y] >= 0)
    return FeatureTable(
        table.choice,
        tuple(similar),
        [table.keys[i] for i in keep],
        [table.feats[i] for i in keep],
        remap[table.y[keep]],
        table.speakers[keep],
        list(table.skipped),
        table.corpora[keep],
        balance_copy=table.balance_copy,
    )


# ---- the cascade ------------------------------------------------------------------------------
def cascade_predict(
    labels,
    similar,
    coarse_probs: np.ndarray,
    fine_probs: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Final labels (indices into `labels`, or len(labels) = `NOT_RUN` where the coarse model
    chose S but no fine probabilities are given: NaN rows) and product scores
    [n, len(labels)]: p(c) = coarse(c) outside S, coarse(S) * fine(c) inside it."""
    labels = list(labels)
    similar = [c for c in labels if c in similar]
    coarse = coarse_labels(labels, similar)
    merged = coarse.index(merged_label(similar))
    coarse_probs = np.asarray(coarse_probs, np.float64)
    n = len(coarse_probs)
    fine = np.full((n, len(similar)), np.nan) if fine_probs is None else np.asarray(fine_probs)
    scores_ = np.zeros((n, len(labels)))
    for j, c in enumerate(coarse):
        if j != merged:
            scores_[:, labels.index(c)] = coarse_probs[:, j]
    for j, c in enumerate(similar):
        scores_[:, labels.index(c)] = coarse_probs[:, merged] * fine[:, j]
    pred = np.empty(n, dtype=np.int64)
    top = coarse_probs.argmax(axis=1)
    for i in range(n):
        if top[i] != merged:
            pred[i] = labels.index(coarse[top[i]])
        elif np.isnan(fine[i]).any():
            pred[i] = len(labels)
        else:
            pred[i] = labels.index(similar[int(np.argmax(fine[i]))])
    return pred, scores_


def cascade_scores(
    labels, similar, stage1: Path, stage2: Path, quantization: str = "float"
) -> dict[str, Any]:
    """Cascade metrics from the `predictions.npz` of the two evaluated stages (same folds).
    Exact for WA / UA: an utterance outside S that the coarse model routes to S is wrong
    whatever the fine model says (the fine model only saw S's test utterances), and is counted
    in the `NOT_RUN` column of the confusion matrix."""
    from .recipe import PREDICTIONS_FILE

    key = "probs" if quantization == "float" else "probs_int8"
    z1 = np.load(Path(stage1) / PREDICTIONS_FILE)
    z2 = np.load(Path(stage2) / PREDICTIONS_FILE)
    if key not in z1 or key not in z2:
        raise ValueError(f"no {quantization} probabilities in the stage predictions")
    labels = list(labels)
    similar = [c for c in labels if c in similar]
    fine_of = {k: p for k, p in zip(z2["keys"].tolist(), z2[key])}
    coarse = list(z1["labels"].tolist())
    if coarse != list(coarse_labels(labels, similar)):
        raise ValueError(f"stage 1 labels {coarse} are not the coarse classes of {labels}")
    keys = z1["keys"].tolist()
    fine = np.full((len(keys), len(similar)), np.nan)
    for i, k in enumerate(keys):
        if k in fine_of:
            fine[i] = fine_of[k]
    # true labels in the full label set: stage 1 keeps every utterance, stage 2 knows S's
    merged = coarse.index(merged_label(similar))
    y1 = z1["y"]
    y = np.array([labels.index(coarse[v]) if v != merged else -1 for v in y1])
    fine_y = {k: similar[int(v)] for k, v in zip(z2["keys"].tolist(), z2["y"])}
    for i, k in enumerate(keys):
        if y[i] < 0:
            y[i] = labels.index(fine_y[k])
    pred, prod = cascade_predict(labels, similar, z1[key], fine)
    hard = scores(y, pred, [*labels, NOT_RUN])
    soft = scores(y, np.nan_to_num(prod, nan=-1.0).argmax(axis=1), labels)
    return {
        "quantization": quantization,
        "cascade": hard,
        "product_argmax": {k: soft[k] for k in ("n", "WA", "UA", "macro_F1")},
        "routed_to_S_from_outside": int((pred == len(labels)).sum()),
    }


def _same_folds(r1: dict, r2: dict) -> None:
    f1 = {row["fold"] for row in r1["folds"]}
    f2 = {row["fold"] for row in r2["folds"]}
    if not f2 <= f1:
        raise ValueError(f"stage 2 folds {sorted(f2 - f1)} are not stage 1 folds")


def _stage_config(cfg, model: str | None, hparams: dict | None):
    changes: dict[str, Any] = {}
    if model:
        changes["model"] = model
    if hparams is not None:
        changes["hparams"] = dict(hparams)
    return cfg.replace(**changes) if changes else cfg


def evaluate_multilevel(
    cfg,
    similar,
    out: Path,
    fine_model: str | None = None,
    fine_hparams: dict | None = None,
    dev=None,
    table: FeatureTable | None = None,
    copies: list[FeatureTable] | None = None,
    progress: bool = True,
    resume: bool = False,
) -> dict[str, Any]:
    """Evaluate stage 1 (`cfg`, S merged) in `out/stage1` and stage 2 (`fine_model` /
    `fine_hparams`, default `cfg`'s, on S only) in `out/stage2` with `recipe.evaluate`, then
    score the cascade; writes `out/report.json` and returns it. Needs a protocol whose folds
    hold out whole speakers or corpora (loso, loco), so both stages test each utterance
    with the same speakers held out. `resume`: each stage keeps the folds a stopped run
    finished (`recipe.evaluate`'s checkpoints)."""
    from . import recipe
    from .device import setup_device
    from .report import REPORT_FILE, write_json

    if cfg.protocol not in ("loso", "loco"):
        raise ValueError(
            f"the cascade is scored on folds both stages share: protocol loso or loco, not "
            f"{cfg.protocol}"
        )
    out = Path(out)
    table = table or recipe.load_table(cfg, progress)
    similar = _check_set(table, similar)
    if copies is None:
        copies = recipe.load_copies(cfg, table, progress)
    dev = dev or setup_device(cfg.device, cfg.cpu_replicas)
    fine_cfg = _stage_config(cfg, fine_model, fine_hparams)
    r1 = recipe.evaluate(
        cfg,
        out / "stage1",
        dev=dev,
        table=merge_classes(table, similar),
        copies=[merge_classes(c, similar) for c in copies],
        progress=progress,
        resume=resume,
    )
    r2 = recipe.evaluate(
        fine_cfg,
        out / "stage2",
        dev=dev,
        table=restrict_classes(table, similar),
        copies=[restrict_classes(c, similar) for c in copies],
        progress=progress,
        resume=resume,
    )
    _same_folds(r1, r2)
    c32 = cascade_scores(table.labels, similar, out / "stage1", out / "stage2")
    report: dict[str, Any] = {
        "corpus": cfg.corpus,
        "protocol": cfg.protocol,
        "model": f"multilevel({cfg.model} / {fine_cfg.model})",
        "labels": list(table.labels),
        "S": similar,
        "merged_label": merged_label(similar),
        "stage1": {
            "model": cfg.model,
            "float": _brief(r1["float"]),
            "median_best_epoch": r1["median_best_epoch"],
        },
        "stage2": {
            "model": fine_cfg.model,
            "float": _brief(r2["float"]),
            "median_best_epoch": r2["median_best_epoch"],
        },
        "float": c32["cascade"],
        "float_product_argmax": c32["product_argmax"],
        "routed_to_S_from_outside": c32["routed_to_S_from_outside"],
        "n_utterances": len(table),
        "config": cfg.to_dict(),
        "fine_config": fine_cfg.to_dict(),
        "seconds": round(r1["seconds"] + r2["seconds"], 1),
    }
    if "int8" in r1 and "int8" in r2:
        c8 = cascade_scores(table.labels, similar, out / "stage1", out / "stage2", "int8")
        report["int8"] = c8["cascade"]
        report["stage1"]["int8"] = _brief(r1["int8"])
        report["stage2"]["int8"] = _brief(r2["int8"])
        report["int8_bytes_max"] = r1["int8_bytes_max"] + r2["int8_bytes_max"]
    write_json(out / REPORT_FILE, report)
    return report


def _brief(s: dict[str, Any]) -> dict[str, Any]:
    return {k: s[k] for k in ("n", "WA", "UA", "macro_F1")}


def fit_multilevel(
    cfg,
    similar,
    out: Path,
    name: str,
    epochs: tuple[int, int],
    fine_model: str | None = None,
    fine_hparams: dict | None = None,
    dev=None,
    table: FeatureTable | None = None,
    copies: list[FeatureTable] | None = None,
    evaluation: dict[str, Any] | None = None,
    progress: bool = True,
) -> dict[str, Path]:
    """Train both stages on every utterance (`epochs` = (coarse, fine)) in `out/coarse-model`
    and `out/fine-model`, and export the cascade as one bundle per quantisation
    (`<name>-int8.edgeser`, `<name>-float32.edgeser`; `export_cascade`). `evaluation`: the
    `evaluate_multilevel` report, whose figures go into the bundle's training metadata."""
    from . import recipe
    from .device import setup_device

    out = Path(out)
    table = table or recipe.load_table(cfg, progress)
    similar = _check_set(table, similar)
    if copies is None:
        copies = recipe.load_copies(cfg, table, progress)
    dev = dev or setup_device(cfg.device, cfg.cpu_replicas)
    fine_cfg = _stage_config(cfg, fine_model, fine_hparams)
    dirs = []
    for role, stage_cfg, transform, n_epochs in (
        ("coarse", cfg, merge_classes, epochs[0]),
        ("fine", fine_cfg, restrict_classes, epochs[1]),
    ):
        dirs.append(
            recipe.fit_all(
                stage_cfg,
                out / f"{role}-model",
                n_epochs,
                dev=dev,
                table=transform(table, similar),
                copies=[transform(c, similar) for c in copies],
                progress=progress,
            )
        )
    return export_cascade(dirs[0], dirs[1], out, name, table.labels, similar, evaluation)


def stage_bridge(coarse: dict[str, Any], fine: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """(scale, shift) per feature dimension taking the coarse stage's model input to the fine
    stage's, from the two stages' `model.json`: both read the same features, each normalised
    with its own training statistics, z_f = (x - m_f) / s_f = z_c * s_c / s_f + (m_c - m_f) / s_f.
    The window floor commutes with that (a positive scale and a shift), and a per-window mean
    normalisation removes the shift, also from the zero-padded frames of a short clip; without
    it the padding (0 in both stages' units) differs from the shifted frames, so that case is
    refused."""
    for key in ("features", "dim", "window_frames", "hop_frames", "window_norm"):
        if coarse.get(key) != fine.get(key):
            raise ValueError(f"the stages differ in {key}: {coarse.get(key)} / {fine.get(key)}")
    if coarse.get("window_floor_db", 0.0) != fine.get("window_floor_db", 0.0):
        raise ValueError("the stages differ in window_floor_db")
    if coarse.get("norm_keep") is not None or fine.get("norm_keep") is not None:
        raise ValueError("one-graph cascades need both stages to read every feature")
    if coarse.get("window_frames") and coarse.get("window_norm", "none") == "none":
        raise ValueError(
            "a one-graph cascade over windows needs window_norm 'mean' (the fine stage's "
            "zero padding cannot be expressed in the coarse stage's units otherwise)"
        )
    mc, sc = (np.asarray(coarse[k], np.float64) for k in ("norm_mean", "norm_std"))
    mf, sf = (np.asarray(fine[k], np.float64) for k in ("norm_mean", "norm_std"))
    scale = sc / sf
    shift = np.zeros_like(scale) if coarse.get("window_frames") else (mc - mf) / sf
    return scale.astype(np.float32), shift.astype(np.float32)


def export_cascade(
    coarse_dir: Path,
    fine_dir: Path,
    out: Path,
    name: str,
    labels,
    similar,
    evaluation: dict[str, Any] | None = None,
) -> dict[str, Path]:
    """The one-file cascade bundle (format 7) of two fitted stage folders: one graph
    [coarse | fine] (`export.convert_cascade`), the coarse stage's normaliser and a
    `CascadeHead` naming S, so `edgeser.predict` runs it in one call."""
    from edgeser.heads import CascadeHead

    from .data import Normaliser
    from .export import convert_cascade, make_bundle
    from .features import FeatureChoice
    from .models import ModelSpec
    from .recipe import MODEL_FILE, REP_FILE, WEIGHTS_FILE

    coarse_dir, fine_dir, out = Path(coarse_dir), Path(fine_dir), Path(out)
    c = json.loads((coarse_dir / MODEL_FILE).read_text())
    f = json.loads((fine_dir / MODEL_FILE).read_text())
    labels = list(labels)
    similar = [x for x in labels if x in similar]
    head = CascadeHead(tuple(c["labels"]), tuple(f["labels"]), merged_label(similar))
    if set(head.fine_labels) != set(similar):
        raise ValueError(f"the fine stage answers {f['labels']}, S is {similar}")
    head.check_labels(labels)
    bridge = stage_bridge(c, f)
    cspec, fspec = ModelSpec.from_dict(c["model_spec"]), ModelSpec.from_dict(f["model_spec"])
    norm = Normaliser(np.array(c["norm_mean"], np.float32), np.array(c["norm_std"], np.float32))
    cfg = c["config"]
    training: dict[str, Any] = {
        "corpus": cfg["corpus"],
        "labels": cfg.get("labels", "native"),
        "model": f"multilevel({cspec.name} / {fspec.name})",
        "S": similar,
        "stages": {
            "coarse": {"model": cspec.name, "labels": c["labels"], "epochs": c["epochs"]},
            "fine": {"model": fspec.name, "labels": f["labels"], "epochs": f["epochs"]},
        },
        "utterances_per_corpus": c.get("corpora"),
        "trained_on": f"all {c['n_utterances']} utterances, {len(c['speakers'])} speakers",
        "seed": cfg["seed"],
        "git_commit": c.get("git_commit", "unknown"),
    }
    if evaluation is not None:
        training["protocol"] = evaluation["protocol"]
        training["metrics"] = {
            q: _brief(evaluation[q]) for q in ("float", "int8") if q in evaluation
        }
    rep = np.load(coarse_dir / REP_FILE)
    paths = {}
    for quant in ("int8", "float32"):
        data = convert_cascade(
            (cspec, coarse_dir / WEIGHTS_FILE), (fspec, fine_dir / WEIGHTS_FILE), bridge, quant, rep
        )
        bundle = make_bundle(
            data,
            quant,
            f"{name}-{quant}",
            labels,
            FeatureChoice.from_dict(c["features"]),
            c["dim"],
            norm,
            c["window_frames"],
            c["hop_frames"],
            training,
            description=f"multi-level cascade ({cspec.name} coarse, {fspec.name} fine over "
            f"S = {similar}) on {cfg['corpus']}, {quant}",
            window_norm=c.get("window_norm", "none"),
            window_floor_db=c.get("window_floor_db", 0.0),
            head=head,
        )
        paths[quant] = bundle.save(out / f"{name}-{quant}.edgeser")
    return paths
