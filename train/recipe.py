"""The recipes behind the CLI: evaluate under a protocol, fit on everything, export bundles.

Training and evaluation use the runtime's path: normalise with training statistics, cut
windows with `edgeser.windows.feature_windows`, average window probabilities per utterance.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgeser.calibration import CalibrationPrior

from .augment import (
    NoiseBank,
    Perturbation,
    augment_perturbations,
    balance_picks,
    vtlp_copies_needed,
    vtlp_perturbations,
)
from .checkpoint import FoldCheckpoint, checkpoint_path, load_checkpoint, save_checkpoint
from .config import TrainConfig
from .corpora import LABEL_SET_ORDER, Corpus, corpus_path, load_corpus
from .data import Examples, Normaliser, balance_weights, make_examples, utterance_probs
from .device import DeviceSetup, setup_device
from .export import ConversionError, TFLiteModel, convert_model, make_bundle
from .features import COMBINED_KINDS, FeatureChoice, FeatureTable, concat_tables, extract
from .fit import train_model
from .metrics import scores, scores_by_group
from .models import ModelSpec, reads_windows
from .protocols import make_folds
from .report import REPORT_FILE, git_commit, plot_confusion, plot_curves, write_json
from .speaker_calibration import calibrated_fold

log = logging.getLogger(__name__)
N_REPRESENTATIVE = 300


def feature_choice(cfg: TrainConfig) -> FeatureChoice:
    return FeatureChoice.parse(cfg.feature_name, cfg.frontend_config())


def load_config_corpora(cfg: TrainConfig) -> list[Corpus]:
    """The corpora of `cfg` in its label set, cut to `cfg.subset` files per (speaker, label)
    when set."""
    names = cfg.corpora
    out = []
    for name in names:
        c = load_corpus(name, corpus_path(names, cfg.data, name)).relabel(cfg.labels)
        out.append(c.subset(cfg.subset) if cfg.subset else c)
    return out


def label_order(cfg: TrainConfig, corpora: list[Corpus]) -> tuple[str, ...]:
    """Class order of the table: the corpus' own (native), else edgeser's order of the label
    set, restricted to the classes some corpus has."""
    if cfg.labels == "native":
        return corpora[0].labels
    present = {c for corpus in corpora for c in corpus.labels}
    return tuple(c for c in LABEL_SET_ORDER[cfg.labels] if c in present)


def load_table(
    cfg: TrainConfig,
    progress: bool = True,
    for_model: bool = True,
    perturb: Perturbation | None = None,
    bank: NoiseBank | None = None,
    corpora: list[Corpus] | None = None,
) -> FeatureTable:
    """Features of every corpus of `cfg` (each cached on its own) as one table."""
    corpora = corpora or load_config_corpora(cfg)
    choice = feature_choice(cfg)
    if for_model and choice.is_sequence != reads_windows(cfg.model):
        raise ValueError(
            f"model {cfg.model} needs {'frame' if reads_windows(cfg.model) else 'functional'}"
            f" features; {cfg.feature_name!r} are not"
        )
    tables = [
        extract(c, choice, cfg.cache or None, progress=progress, perturb=perturb, bank=bank)
        for c in corpora
    ]
    return concat_tables(tables, label_order(cfg, corpora))


def perturbations(cfg: TrainConfig) -> list[Perturbation]:
    """The training copies `cfg` asks for: one per speed factor, then the augmented copies."""
    return [Perturbation(speed=s) for s in cfg.speed_perturb] + augment_perturbations(
        cfg.augment_config, cfg.seed
    )


def load_copies(cfg: TrainConfig, table: FeatureTable, progress: bool = True) -> list[FeatureTable]:
    """One table per training copy (`perturbations(cfg)`), aligned with `table` utterance by
    utterance (an utterance whose copy could not be extracted keeps its original features);
    then, with `cfg.vtlp_balance`, the VTLP balancing copies (`balance_copy` set: training
    takes only the utterances `balance_picks` chooses from them)."""
    kinds = perturbations(cfg)
    n_balance = vtlp_copies_needed(table.y) if cfg.vtlp_balance else 0
    kinds += vtlp_perturbations(cfg.augment_config.vtlp_alpha, n_balance, cfg.seed)
    if not kinds:
        return []
    corpora = load_config_corpora(cfg)
    bank = NoiseBank(cfg.augment_config.noise_root, "train") if cfg.augment_config.copies else None
    copies = []
    for p in kinds:
        t = load_table(cfg, progress, perturb=p, bank=bank, corpora=corpora)
        by_key = dict(zip(t.keys, t.feats))
        missing = [k for k in table.keys if k not in by_key]
        if missing:
            log.warning(
                "%s: %d utterances without a copy keep their original features", p.tag, len(missing)
            )
        feats = [by_key.get(k, f) for k, f in zip(table.keys, table.feats)]
        copies.append(
            FeatureTable(
                table.choice,
                table.labels,
                list(table.keys),
                feats,
                table.y,
                table.speakers,
                t.skipped,
                table.corpora,
                balance_copy=p.vtlp is not None,
            )
        )
    return copies


def training_examples(
    cfg: TrainConfig,
    table: FeatureTable,
    copies: list[FeatureTable],
    idx: np.ndarray,
    norm: Normaliser,
    win: Windowing,
) -> Examples:
    """Training windows of the utterances `idx` and of their perturbed copies (of the VTLP
    balancing copies only those `balance_picks` chooses, so that every class of `idx` has as
    many utterances as its largest), weighted as `cfg.example_balance` says."""
    every = [t for t in copies if not t.balance_copy]
    balancing = [t for t in copies if t.balance_copy]
    sources = [(t, idx) for t in [table, *every]]
    if balancing:
        picks = balance_picks(table.y[idx], len(balancing), np.random.default_rng(cfg.seed))
        sources += [(t, idx[p]) for t, p in zip(balancing, picks) if len(p)]
    parts = [win.examples(t, i, norm, training=True) for t, i in sources]
    offsets = np.cumsum([0] + [p.n_utterances for p in parts])
    ex = (
        parts[0]
        if len(parts) == 1
        else Examples(
            np.concatenate([p.x for p in parts]),
            np.concatenate([p.y for p in parts]),
            np.concatenate([p.owner + offsets[i] for i, p in enumerate(parts)]),
            np.concatenate([p.utt_y for p in parts]),
        )
    )
    balance = cfg.example_balance
    if balance != "none":
        groups = None
        if balance == "corpus_class":
            groups = np.concatenate([table.corpora[i] for _, i in sources])[ex.owner]
        ex.w = balance_weights(ex.y, groups, len(table.labels))
    return ex


@dataclass(frozen=True)
class Windowing:
    window: int = 0
    hop: int = 0
    train_hop: int = 0
    norm: str = "none"
    floor_db: float = 0.0

    @classmethod
    def of(cls, cfg: TrainConfig, table: FeatureTable) -> Windowing:
        if not table.choice.is_sequence:
            if cfg.window_norm != "none" or cfg.window_floor_db:
                raise ValueError(
                    "--window-norm and --window-floor-db apply to frame features; "
                    f"{table.choice.label} are functionals"
                )
            return cls()
        return cls(
            cfg.frames(cfg.window_s),
            cfg.frames(cfg.hop_s),
            cfg.frames(cfg.train_hop_s),
            cfg.window_norm,
            cfg.window_floor_db,
        )

    def examples(
        self, table: FeatureTable, idx: np.ndarray, norm: Normaliser, training: bool = False
    ) -> Examples:
        """`make_examples` with these windows (the training hop when `training`)."""
        hop = self.train_hop if training else self.hop
        return make_examples(table, idx, norm, self.window, hop, self.norm, self.floor_db)


def model_spec(cfg: TrainConfig, table: FeatureTable, win: Windowing) -> ModelSpec:
    if cfg.select_features and table.choice.is_sequence:
        raise ValueError(
            f"--select-features picks functionals; {table.choice.label} are frame "
            f"features (model {cfg.model})"
        )
    if cfg.select_features > table.dim:
        raise ValueError(
            f"--select-features {cfg.select_features} exceeds the {table.dim} "
            f"{table.choice.label} features"
        )
    shape = (
        (win.window, table.dim) if table.choice.is_sequence else (cfg.select_features or table.dim,)
    )
    hparams = dict(cfg.hparams)
    if cfg.model == "tfcnn" and table.choice.kind in COMBINED_KINDS:
        # where the log spectrogram ends and the log-mel bands begin in each frame
        hparams.setdefault("spec_bins", table.choice.frontend.n_bins)
    return ModelSpec(cfg.model, shape, len(table.labels), hparams, cfg.members)


def fit_normaliser(cfg: TrainConfig, table: FeatureTable, idx: np.ndarray) -> Normaliser:
    """Normalisation (and feature selection) fitted on the utterances `idx` only."""
    return Normaliser.fit([table.feats[i] for i in idx], table.y[idx], cfg.select_features)


def representative(ex: Examples, seed: int, originals: int | None = None) -> np.ndarray:
    """int8 calibration inputs: up to N_REPRESENTATIVE training examples, drawn from the first
    `originals` utterances only (the unperturbed ones: speed copies can stretch the input range
    and coarsen the int8 input scale for real audio)."""
    pool = np.arange(len(ex.x)) if originals is None else np.flatnonzero(ex.owner < originals)
    rng = np.random.default_rng(seed)
    take = rng.permutation(pool)[:N_REPRESENTATIVE]
    return ex.x[np.sort(take)]


def _int8_model(spec: ModelSpec, model, rep: np.ndarray) -> bytes:
    with tempfile.TemporaryDirectory(prefix="edgeser-fold-") as tmp:
        w = Path(tmp) / "fold.weights.h5"
        model.save_weights(w)
        return convert_model(spec, w, "int8", rep)


FOLDS_DIR = "folds"


def fold_slug(n: int, name: str) -> str:
    return f"{n:02d}-" + "".join(ch if ch.isalnum() else "-" for ch in name).strip("-")


def save_fold_model(
    out: Path,
    n: int,
    fold_name: str,
    data: bytes,
    cfg: TrainConfig,
    table: FeatureTable,
    norm: Normaliser,
    win: Windowing,
    spec: ModelSpec,
    test_idx: np.ndarray,
    prior: CalibrationPrior | None = None,
) -> Path:
    """The fold's int8 model as a bundle, and the keys of its test part beside it, so
    `benchmarks.robustness` can score held-out audio with the runtime itself."""
    folder = Path(out) / FOLDS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    slug = fold_slug(n, fold_name)
    training = {
        "corpus": cfg.corpus,
        "labels": cfg.labels,
        "protocol": cfg.protocol_name,
        "held_out": fold_name,
        "model": spec.name,
        "seed": cfg.seed,
    }
    bundle = make_bundle(
        data,
        "int8",
        f"{slug}-int8",
        table.labels,
        table.choice,
        spec.input_shape[-1],
        norm,
        win.window or None,
        win.hop or None,
        training,
        description=f"{spec.name}, fold {fold_name}",
        window_norm=win.norm,
        window_floor_db=win.floor_db,
        speaker_calibration=prior,
    )
    path = bundle.save(folder / f"{slug}.edgeser")
    (folder / f"{slug}.test.txt").write_text(
        "".join(f"{table.keys[i]}\n" for i in test_idx), encoding="utf-8"
    )
    return path


def _prepare(
    cfg: TrainConfig, out: Path, dev: DeviceSetup | None, table: FeatureTable | None, progress: bool
):
    """Output folder, device, features, windowing and model spec shared by every recipe step."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    dev = dev or setup_device(cfg.device, cfg.cpu_replicas)
    table = table or load_table(cfg, progress)
    win = Windowing.of(cfg, table)
    return out, dev, table, win, model_spec(cfg, table, win)


def evaluate(
    cfg: TrainConfig,
    out: Path,
    dev: DeviceSetup | None = None,
    table: FeatureTable | None = None,
    progress: bool = True,
    copies: list[FeatureTable] | None = None,
    save_folds: bool = False,
    resume: bool = False,
) -> dict[str, Any]:
    """Train and test every fold of `cfg.protocol`; pooled float (and int8) metrics + plots.
    `copies`: the perturbed training tables (loaded here when None and the config asks for
    them); only training parts use them. `save_folds`: keep each fold's int8 bundle and the
    list of its test utterances under `out/folds/`. Every finished fold is checkpointed under
    `out/checkpoints/`; `resume` reuses the checkpoints of the same configuration instead of
    training those folds again."""
    t0 = time.time()
    out, dev, table, win, spec = _prepare(cfg, out, dev, table, progress)
    if copies is None:
        copies = load_copies(cfg, table, progress)
    labels = table.labels
    folds = make_folds(
        cfg.protocol,
        table.y,
        table.speakers,
        k=cfg.k,
        val_fraction=cfg.val_fraction,
        test_fraction=cfg.test_fraction,
        seed=cfg.seed,
        groups=table.corpora,
    )
    # Utterance probabilities of every fold's test part; pooled scores and predictions.npz
    # both come from them.
    test_idx, probs_float, probs_int8, fold_rows, histories = [], [], [], [], {}
    int8_error = None
    fixed = cfg.selection == "fixed"
    config = cfg.to_dict()
    for n, fold in enumerate(folds, 1):
        tf0 = time.time()
        ck_path = checkpoint_path(out, fold_slug(n, fold.name))
        fold_keys = tuple(table.keys[i] for i in fold.test)
        done = load_checkpoint(ck_path, config, fold_keys) if resume else None
        if done is not None:
            test_idx.append(fold.test)
            probs_float.append(done.probs_float)
            if done.probs_int8 is not None:
                probs_int8.append(done.probs_int8)
            fold_rows.append(done.row)
            histories[fold.name] = done.history
            if (
                save_folds
                and not (out / FOLDS_DIR / f"{fold_slug(n, fold.name)}.edgeser").is_file()
            ):
                log.warning("resumed fold %s has no saved model (first run without it)", fold.name)
            print(f"[{n}/{len(folds)}] {fold.name}: resumed from {ck_path}", flush=True)
            continue
        train_idx = np.sort(np.concatenate([fold.train, fold.val])) if fixed else fold.train
        # speaker calibration: training speakers with all their clips, the others as set
        train_tab, train_copies, test_tab, prior = calibrated_fold(
            cfg.speaker_norm, table, copies, train_idx, cfg.seed
        )
        norm = fit_normaliser(cfg, train_tab, train_idx)
        tr = training_examples(cfg, train_tab, train_copies, train_idx, norm, win)
        va = None if fixed else win.examples(test_tab, fold.val, norm)
        te = win.examples(test_tab, fold.test, norm)
        res = train_model(spec, tr, va, cfg, dev, labels)
        p = res.model.predict(te.x, batch_size=256, verbose=0)
        uf = utterance_probs(p, te.owner, te.n_utterances)
        test_idx.append(fold.test)
        probs_float.append(uf)
        row = {
            "fold": fold.name,
            "n_train": len(train_idx),
            "n_val": 0 if fixed else len(fold.val),
            "n_test": len(fold.test),
            "best_epoch": res.best_epoch,
            "epochs_run": res.epochs_run,
            "float": _brief(scores(te.utt_y, uf.argmax(axis=1), labels)),
        }
        if cfg.int8_eval and int8_error is None:
            try:
                rep = representative(tr, cfg.seed, len(train_idx))
                data = _int8_model(spec, res.model, rep)
                runner = TFLiteModel(data)
                size, xnn = len(data), runner.xnnpack
                ui = utterance_probs(runner.predict(te.x), te.owner, te.n_utterances)
                if save_folds:
                    save_fold_model(
                        out, n, fold.name, data, cfg, table, norm, win, spec, fold.test, prior
                    )
                probs_int8.append(ui)
                row["int8"] = _brief(scores(te.utt_y, ui.argmax(axis=1), labels))
                row["int8_bytes"] = size
                row["int8_xnnpack"] = xnn
            except ConversionError as exc:
                int8_error = str(exc)
                log.error("int8 evaluation disabled: %s", exc)
        row["seconds"] = round(time.time() - tf0, 1)
        fold_rows.append(row)
        histories[fold.name] = res.history
        save_checkpoint(
            ck_path,
            config,
            FoldCheckpoint(
                fold_keys, uf, probs_int8[-1] if "int8" in row else None, row, res.history
            ),
        )
        msg = (
            f"[{n}/{len(folds)}] {fold.name}: UA {row['float']['UA']:.3f} "
            f"WA {row['float']['WA']:.3f}"
        )
        if "int8" in row:
            msg += f" | int8 UA {row['int8']['UA']:.3f}"
        print(
            f"{msg} (best epoch {res.best_epoch}/{res.epochs_run}, {row['seconds']} s)", flush=True
        )
    tested = np.concatenate(test_idx)
    yt = table.y[tested]
    all_float = np.concatenate(probs_float)
    all_int8 = np.concatenate(probs_int8) if len(probs_int8) == len(test_idx) else None
    pooled_float = scores(yt, all_float.argmax(axis=1), labels)
    report: dict[str, Any] = {
        "corpus": cfg.corpus,
        "protocol": cfg.protocol_name,
        "model": cfg.model,
        "features": feature_choice(cfg).to_dict(),
        "labels": list(labels),
        "window_frames": win.window or None,
        "hop_frames": win.hop or None,
        "seed": cfg.seed,
        "git_commit": git_commit(),
        "device": dev.description,
        "config": cfg.to_dict(),
        "model_spec": spec.to_dict(),
        "n_utterances": len(table),
        "skipped_files": table.skipped,
        "float": pooled_float,
        "folds": fold_rows,
        "median_best_epoch": int(np.median([r["best_epoch"] for r in fold_rows])),
        "seconds": round(time.time() - t0, 1),
    }
    if len(np.unique(table.corpora)) > 1:
        groups = table.corpora[tested]
        report["per_corpus"] = {
            q: scores_by_group(yt, p.argmax(axis=1), groups, labels)
            for q, p in (("float", all_float), ("int8", all_int8))
            if p is not None
        }
    if all_int8 is not None:
        pooled_int8 = scores(yt, all_int8.argmax(axis=1), labels)
        report["int8"] = pooled_int8
        report["int8_UA_drop_points"] = round(100 * (pooled_float["UA"] - pooled_int8["UA"]), 2)
        report["int8_bytes_max"] = max(r["int8_bytes"] for r in fold_rows)
        plot_confusion(
            pooled_int8["confusion"],
            labels,
            f"{cfg.corpus} {cfg.protocol} {cfg.model} int8",
            out / "confusion_int8.png",
        )
    if int8_error:
        report["int8_error"] = int8_error
    plot_confusion(
        pooled_float["confusion"],
        labels,
        f"{cfg.corpus} {cfg.protocol} {cfg.model} float: UA {pooled_float['UA']:.3f} "
        f"WA {pooled_float['WA']:.3f}",
        out / "confusion.png",
    )
    plot_curves(histories, "accuracy", out / "accuracy.png")
    plot_curves(histories, "loss", out / "loss.png")
    write_json(out / "histories.json", {"histories": histories})
    write_json(out / REPORT_FILE, report)
    save_predictions(out / PREDICTIONS_FILE, table, tested, all_float, all_int8)
    return report


PREDICTIONS_FILE = "predictions.npz"


def save_predictions(
    path: Path,
    table: FeatureTable,
    idx: np.ndarray,
    probs: np.ndarray,
    probs_int8: np.ndarray | None,
) -> None:
    """Utterance-level test probabilities of every fold, keyed by utterance (for fusion)."""
    extra = {} if probs_int8 is None else {"probs_int8": probs_int8.astype(np.float32)}
    np.savez(
        path,
        keys=np.array([table.keys[i] for i in idx]),
        y=table.y[idx],
        speakers=table.speakers[idx],
        corpora=table.corpora[idx],
        labels=np.array(table.labels),
        probs=probs.astype(np.float32),
        **extra,
    )


def _brief(s: dict[str, Any]) -> dict[str, Any]:
    return {k: s[k] for k in ("n", "WA", "UA", "macro_F1")}


# ---- training on everything, saved model directories ----------------------------------------
MODEL_FILE = "model.json"
WEIGHTS_FILE = "model.weights.h5"
REP_FILE = "representative.npy"


def fit_all(
    cfg: TrainConfig,
    out: Path,
    epochs: int,
    dev: DeviceSetup | None = None,
    table: FeatureTable | None = None,
    progress: bool = True,
    copies: list[FeatureTable] | None = None,
) -> Path:
    """Train on every utterance (and its speed-perturbed copies) for a fixed number of epochs
    (e.g. the protocol's median best epoch) and save weights, spec, normalisation and windowing
    to `out`."""
    out, dev, table, win, spec = _prepare(cfg, out, dev, table, progress)
    if copies is None:
        copies = load_copies(cfg, table, progress)
    everyone = np.arange(len(table))
    table, copies, _, prior = calibrated_fold(cfg.speaker_norm, table, copies, everyone, cfg.seed)
    norm = fit_normaliser(cfg, table, everyone)
    tr = training_examples(cfg, table, copies, everyone, norm, win)
    res = train_model(spec, tr, None, cfg, dev, table.labels, epochs=epochs)
    res.model.save_weights(out / WEIGHTS_FILE)
    np.save(out / REP_FILE, representative(tr, cfg.seed, len(everyone)))
    info = {
        "model_spec": spec.to_dict(),
        "config": cfg.to_dict(),
        "features": table.choice.to_dict(),
        "labels": list(table.labels),
        "dim": spec.input_shape[-1],
        "window_frames": win.window or None,
        "hop_frames": win.hop or None,
        "window_norm": win.norm,
        "window_floor_db": win.floor_db,
        "corpora": {str(g): int(n) for g, n in zip(*np.unique(table.corpora, return_counts=True))},
        "norm_mean": norm.mean.tolist(),
        "norm_std": norm.std.tolist(),
        "norm_keep": None if norm.keep is None else norm.keep.tolist(),
        "speaker_calibration": None if prior is None else prior.to_dict(),
        "epochs": epochs,
        "n_utterances": len(table),
        "speakers": sorted(set(table.speakers.tolist())),
        "history": res.history,
        "git_commit": git_commit(),
    }
    write_json(out / MODEL_FILE, info)
    return out


def export_dir(
    model_dir: Path, out: Path, name: str, evaluation: dict[str, Any] | None = None
) -> dict[str, Path]:
    """Convert a saved model directory to `<name>-int8.edgeser` and `<name>-float32.edgeser`."""
    model_dir, out = Path(model_dir), Path(out)
    info_path = model_dir / MODEL_FILE
    if not info_path.is_file():
        raise FileNotFoundError(
            f"{model_dir}: no {MODEL_FILE}; train it with `python -m train fit`"
        )
    info = json.loads(info_path.read_text())
    spec = ModelSpec.from_dict(info["model_spec"])
    choice = FeatureChoice.from_dict(info["features"])
    keep = info.get("norm_keep")
    norm = Normaliser(
        np.array(info["norm_mean"], np.float32),
        np.array(info["norm_std"], np.float32),
        None if keep is None else np.array(keep, np.int64),
    )
    cfg = info["config"]
    cal = info.get("speaker_calibration")
    prior = None if cal is None else CalibrationPrior.from_dict(cal)
    training: dict[str, Any] = {
        "corpus": cfg["corpus"],
        "labels": cfg.get("labels", "native"),
        "model": spec.name,
        "utterances_per_corpus": info.get("corpora"),
        "augment": cfg.get("augment") or None,
        "trained_on": f"all {info['n_utterances']} utterances, {len(info['speakers'])} speakers",
        "epochs": info["epochs"],
        "seed": cfg["seed"],
        "members": spec.members,
        "git_commit": info.get("git_commit", "unknown"),
    }
    if evaluation is not None:
        training["protocol"] = evaluation["protocol"]
        training["metrics"] = {
            q: _brief(evaluation[q]) for q in ("float", "int8") if q in evaluation
        }
        if "per_corpus" in evaluation:
            training["per_corpus"] = evaluation["per_corpus"]
    rep = np.load(model_dir / REP_FILE)
    ensemble = f" ensemble of {spec.members}" if spec.members > 1 else ""
    paths = {}
    for quant in ("int8", "float32"):
        data = convert_model(spec, model_dir / WEIGHTS_FILE, quant, rep)
        bundle = make_bundle(
            data,
            quant,
            f"{name}-{quant}",
            info["labels"],
            choice,
            info["dim"],
            norm,
            info["window_frames"],
            info["hop_frames"],
            training,
            description=f"{spec.name}{ensemble} on {cfg['corpus']} "
            f"({choice.label} features), {quant}",
            window_norm=info.get("window_norm", "none"),
            window_floor_db=info.get("window_floor_db", 0.0),
            speaker_calibration=prior,
        )
        paths[quant] = bundle.save(out / f"{name}-{quant}.edgeser")
    return paths
