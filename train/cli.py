"""``python -m train``: extract | fit | evaluate | export | run | baseline | fuse | summary |
similarity | multilevel.

    python -m train run --corpus emodb --data ../shared/datasets/emodb --model cnn_lstm_2d \
        --protocol loso --out runs/emodb-cnnlstm
    python -m train run recipes/six-core-cnn_lstm_2d.toml            # a published model's recipe
    python -m train evaluate recipes/six-core-cnn_lstm_2d.toml --epochs 3 --out runs/try
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import sys
import warnings
from pathlib import Path

from .baselines import CLASSIFIERS
from .baselines import SPEAKER_NORMS as BASELINE_SPEAKER_NORMS
from .config import (
    BALANCES,
    DEFAULT_PRESETS,
    DEVICES,
    LR_SCHEDULES,
    OPTIMIZERS,
    SELECTIONS,
    SPEAKER_NORMS,
    WINDOW_NORMS,
    TrainConfig,
)
from .corpora import CORPORA, LABEL_SETS, parse_corpus_list
from .models import MODELS
from .protocols import PROTOCOLS
from .report import EVALUATION_DIR, REPORT_FILE
from .shared_data import datasets_dir
from .summary import SORT_KEYS

_DEFAULT = TrainConfig(corpus="emodb", data=".")


def default_data_dir(corpus: str) -> Path:
    """$EDGESER_DATASETS (or ../shared/datasets)/<corpus>; the datasets folder itself for a
    list of corpora."""
    root = datasets_dir()
    try:
        return root if len(parse_corpus_list(corpus)) > 1 else root / corpus
    except ValueError:
        return root / corpus


def _add_resume_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--resume",
        action="store_true",
        help="keep the folds a stopped run of the same options finished (their checkpoints "
        "under the evaluation folder's checkpoints/) and train only the others",
    )


def _add_data_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("data and features")
    p.add_argument(
        "recipe_file",
        nargs="?",
        metavar="RECIPE",
        default="",
        help="recipe file (TOML or JSON, e.g. recipes/six-core-cnn_lstm_2d.toml): "
        "option values whose keys are the option names with _; options given "
        "on the command line override it",
    )
    g.add_argument("--recipe", default="", help="the recipe file, as an option")
    g.add_argument(
        "--corpus",
        default="",
        help=f"corpus layout, or several joined by commas: {', '.join(CORPORA)} "
        "(csv = a manifest path,label,speaker)",
    )
    g.add_argument(
        "--data",
        help="corpus folder (the CSV file for --corpus csv; the folder "
        "holding each corpus folder for several); default "
        "$EDGESER_DATASETS[/<corpus>] or ../shared/datasets[/<corpus>]",
    )
    g.add_argument(
        "--labels",
        choices=LABEL_SETS,
        default=_DEFAULT.labels,
        help="label set: native (the corpus' own names; one corpus only), core "
        "(anger, happiness, neutral, sadness) or extended (+ boredom, calm, "
        "disgust, fear, surprise); default %(default)s",
    )
    g.add_argument(
        "--model",
        choices=sorted(MODELS),
        default=_DEFAULT.model,
        help="model family (default %(default)s)",
    )
    g.add_argument(
        "--features",
        default="",
        help="log_mel | mfcc | spectrogram | spectrogram+log_mel (edgeser front end), gemaps "
        "(edgeser-gemaps-v1: edgeser's own voice functionals, no openSMILE), large "
        "(edgeser-large-v2: 1765 of them, ComParE-like; large-v1 the first version) or "
        "egemaps | compare "
        "| is09 (openSMILE functionals); default: the model's own",
    )
    g.add_argument(
        "--frontend-preset",
        default="",
        help=f"FrontendConfig preset; default per kind {DEFAULT_PRESETS}",
    )
    g.add_argument("--n-mels", type=int, default=0, help="override the preset's mel bands")
    g.add_argument(
        "--log-floor",
        type=float,
        default=0.0,
        help="override the preset's power floor before the log (e.g. 1e-20, so a window "
        "floor keeps level invariance for very quiet input)",
    )
    g.add_argument(
        "--cache",
        default=_DEFAULT.cache,
        help="feature cache folder ('' = no cache; default %(default)s)",
    )
    g.add_argument(
        "--select-features",
        type=int,
        default=0,
        metavar="N",
        help="functionals only: keep the N with the largest ANOVA F score, chosen on "
        "each fold's training part (0 = all)",
    )
    g.add_argument(
        "--subset",
        type=int,
        default=0,
        help="keep at most N files per (speaker, label): quick smoke runs",
    )


def _add_protocol_args(g) -> None:
    """The fold options shared by training commands and `baseline` (same folds for both)."""
    g.add_argument(
        "--protocol",
        choices=PROTOCOLS,
        default=_DEFAULT.protocol,
        help="loso = leave one speaker out (default), loco = leave one corpus out "
        "(several corpora), group_kfold = speaker-group k-fold, random = one "
        "stratified random split, kfold = stratified k-fold over utterances",
    )
    g.add_argument(
        "--k", type=int, default=_DEFAULT.k, help="folds for kfold / group_kfold (%(default)s)"
    )
    g.add_argument(
        "--test-fraction",
        type=float,
        default=_DEFAULT.test_fraction,
        help="test share for --protocol random (%(default)s)",
    )
    g.add_argument(
        "--seed",
        type=int,
        default=_DEFAULT.seed,
        help="random seed: folds, initialisation, shuffling (%(default)s)",
    )


def _add_train_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("protocol and training")
    _add_protocol_args(g)
    g.add_argument(
        "--val-fraction",
        type=float,
        default=_DEFAULT.val_fraction,
        help="validation share of the training part; whole speakers when there are "
        ">= 4 (%(default)s)",
    )
    g.add_argument(
        "--epochs",
        type=int,
        default=_DEFAULT.epochs,
        help="maximum epochs (early stopping on validation UA) (%(default)s)",
    )
    g.add_argument(
        "--patience",
        type=int,
        default=_DEFAULT.patience,
        help="epochs without validation-UA gain before stopping (0 = never)",
    )
    g.add_argument(
        "--selection",
        choices=SELECTIONS,
        default=_DEFAULT.selection,
        help="val_ua: keep the epoch with the best UA on validation speakers drawn "
        "from the training part; fixed: train all --epochs on the whole "
        "training part, keep the last (%(default)s)",
    )
    g.add_argument("--batch-size", type=int, default=_DEFAULT.batch_size, help="(%(default)s)")
    g.add_argument(
        "--lr", type=float, default=_DEFAULT.learning_rate, help="learning rate (%(default)s)"
    )
    g.add_argument(
        "--optimizer",
        choices=OPTIMIZERS,
        default=_DEFAULT.optimizer,
        help="adam, or rmsprop (the DyCNN paper: --optimizer rmsprop --lr 0.01 "
        "--batch-size 200) (%(default)s)",
    )
    g.add_argument(
        "--lr-schedule",
        choices=LR_SCHEDULES,
        default=_DEFAULT.lr_schedule,
        help="constant, or cosine decay to 0 over --epochs (%(default)s)",
    )
    g.add_argument(
        "--window-s",
        type=float,
        default=_DEFAULT.window_s,
        help="model input window in seconds, front-end models (%(default)s)",
    )
    g.add_argument(
        "--hop-s",
        type=float,
        default=_DEFAULT.hop_s,
        help="window hop at evaluation and in the runtime (%(default)s)",
    )
    g.add_argument(
        "--train-hop-s",
        type=float,
        default=_DEFAULT.train_hop_s,
        help="window hop for training examples (%(default)s)",
    )
    g.add_argument(
        "--no-spec-augment",
        action="store_true",
        help="disable time/feature band masking of training windows",
    )
    g.add_argument(
        "--no-class-weight",
        action="store_true",
        help="disable example weighting (same as --balance none)",
    )
    g.add_argument(
        "--balance",
        choices=BALANCES,
        default=_DEFAULT.balance,
        help="training-example weights: corpus_class = every (corpus, class) cell "
        "weighs the same (one corpus: same as class), class, none "
        "(%(default)s)",
    )
    g.add_argument(
        "--vtlp-balance",
        action="store_true",
        help="bring every class of each training part up to its largest class with VTLP "
        "copies of its utterances (a random mel warp factor per copy, uniform in the "
        "--augment vtlp_alpha range, default 0.9-1.1; seeded, cached); mel features only",
    )
    g.add_argument(
        "--window-norm",
        choices=WINDOW_NORMS,
        default=_DEFAULT.window_norm,
        help="mean = subtract each window's own per-band mean (input level and "
        "fixed channel colouring cancel; the bundle records it) (%(default)s)",
    )
    g.add_argument(
        "--window-floor-db",
        type=float,
        default=_DEFAULT.window_floor_db,
        help="log-mel only: floor every band of a window this many dB below its loudest "
        "frame in the window, so silence and digital zeros look alike at any input level "
        "(0 = off; the bundle records it) (%(default)s)",
    )
    g.add_argument(
        "--speaker-norm",
        choices=SPEAKER_NORMS,
        default=_DEFAULT.speaker_norm,
        help="functionals only: z-score every speaker's vectors with that speaker's own "
        "statistics (edgeser.calibration). Test speakers: running = their clips one by one "
        "through a running calibration, as a device does; full = all their clips at once. "
        "Uses unlabelled test audio: reported as '<protocol>+running_speaker_norm' / "
        "'+speaker_norm'; the bundle carries the population prior (%(default)s)",
    )
    g.add_argument(
        "--augment-copies",
        type=int,
        default=0,
        metavar="N",
        help="N augmented training copies of every training utterance (noise, "
        "babble, reverberation, telephone band, VTLP, gain; seeded, cached); "
        "test parts and int8 calibration never use them",
    )
    g.add_argument(
        "--augment",
        default="{}",
        help="AugmentConfig overrides as JSON, e.g. '{\"snr_db\": [5, 20]}'",
    )
    g.add_argument(
        "--noise-dir",
        default="",
        help="noise and impulse-response folder (default $EDGESER_NOISE or "
        "../shared/noise); its train split is used",
    )
    g.add_argument(
        "--hparams",
        default="{}",
        help="model hyper-parameters as JSON, e.g. '{\"lstm_units\": 48}'",
    )
    g.add_argument(
        "--speed-perturb",
        type=float,
        nargs="+",
        default=[],
        metavar="FACTOR",
        help="add training copies of every training utterance played FACTOR times "
        "faster (e.g. 0.9 1.1; tempo and pitch together); test parts never use "
        "them",
    )
    g.add_argument(
        "--members",
        type=int,
        default=_DEFAULT.members,
        help="train N networks (seeds seed..seed+N-1) and ship them as one model that "
        "averages their probabilities (%(default)s)",
    )
    g.add_argument(
        "--device",
        choices=DEVICES,
        default="auto",
        help="auto: all GPUs (MirroredStrategy, mixed precision) when visible, else CPU",
    )
    g.add_argument(
        "--cpu-replicas",
        type=int,
        default=1,
        help="split the CPU into N logical devices and mirror over them (tests the "
        "multi-device path without GPUs)",
    )
    g.add_argument(
        "--no-int8-eval",
        action="store_true",
        help="skip converting each fold to int8 and evaluating it with ai-edge-litert",
    )


def _json_arg(text: str, flag: str) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SystemExit(f"{flag} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise SystemExit(f"{flag} must be a JSON object")
    return value


def _config(a: argparse.Namespace) -> TrainConfig:
    if not a.corpus:
        raise SystemExit("--corpus is required (or a --recipe that sets it)")
    data = a.data or str(default_data_dir(a.corpus))
    kw = dict(
        corpus=a.corpus,
        data=data,
        labels=a.labels,
        model=a.model,
        features=a.features,
        frontend_preset=a.frontend_preset,
        n_mels=a.n_mels,
        log_floor=a.log_floor,
        cache=a.cache,
        subset=a.subset,
        select_features=getattr(a, "select_features", 0),
    )
    if a.command == "baseline":
        kw.update(protocol=a.protocol, k=a.k, test_fraction=a.test_fraction, seed=a.seed)
    elif hasattr(a, "protocol"):
        hp = _json_arg(a.hparams, "--hparams")
        augment = _json_arg(a.augment, "--augment")
        if a.augment_copies:
            augment["copies"] = a.augment_copies
        if a.noise_dir:
            augment["noise_dir"] = a.noise_dir
        kw.update(
            balance=a.balance,
            window_norm=a.window_norm,
            window_floor_db=a.window_floor_db,
            speaker_norm=a.speaker_norm,
            augment=augment,
            protocol=a.protocol,
            k=a.k,
            val_fraction=a.val_fraction,
            test_fraction=a.test_fraction,
            seed=a.seed,
            epochs=a.epochs,
            patience=a.patience,
            selection=a.selection,
            batch_size=a.batch_size,
            learning_rate=a.lr,
            optimizer=a.optimizer,
            vtlp_balance=a.vtlp_balance,
            lr_schedule=a.lr_schedule,
            members=a.members,
            speed_perturb=tuple(a.speed_perturb),
            window_s=a.window_s,
            hop_s=a.hop_s,
            train_hop_s=a.train_hop_s,
            spec_augment=not a.no_spec_augment,
            class_weight=not a.no_class_weight,
            hparams=hp,
            device=a.device,
            cpu_replicas=a.cpu_replicas,
            int8_eval=not a.no_int8_eval,
        )
    try:
        return TrainConfig(**kw)
    except ValueError as exc:
        raise SystemExit(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m train",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("extract", help="extract (and cache) features of a corpus")
    _add_data_args(s)

    s = sub.add_parser("evaluate", help="train and test every fold of a protocol; reports")
    _add_data_args(s)
    _add_train_args(s)
    s.add_argument("--out", required=True, help="folder for report.json and plots")
    s.add_argument(
        "--save-fold-models",
        action="store_true",
        help="keep every fold's int8 bundle and its test list in <out>/folds "
        "(for python -m benchmarks.robustness)",
    )
    _add_resume_arg(s)

    s = sub.add_parser("fit", help="train on ALL utterances for a fixed number of epochs")
    _add_data_args(s)
    _add_train_args(s)
    s.add_argument("--out", required=True, help="folder for the trained model")

    s = sub.add_parser("export", help="convert a trained model folder to int8 + float bundles")
    s.add_argument("--model-dir", required=True, help="folder written by `fit`")
    s.add_argument("--out", required=True, help="folder for the .edgeser bundles")
    s.add_argument("--name", required=True, help="bundle name, e.g. emodb-cnn_lstm_2d")
    s.add_argument(
        "--report",
        help="report.json of `evaluate`: metrics go into the bundle and "
        "a model card is written beside the int8 bundle",
    )

    s = sub.add_parser(
        "card",
        help="(re)write the model card beside a bundle from its "
        "evaluation report and a robustness benchmark result",
    )
    s.add_argument("bundle", help="the .edgeser file; the card is written beside it (.md)")
    s.add_argument("--report", required=True, help="report.json of the evaluation")
    s.add_argument(
        "--robustness",
        default="",
        help="JSON of python -m benchmarks.robustness (its entry for --series)",
    )
    s.add_argument(
        "--series", default="", help="which model entry of the robustness JSON (default: the first)"
    )
    s.add_argument("--train-command", default="", help="the command that trained the model")

    s = sub.add_parser(
        "baseline",
        help="scikit-learn reference classifier on the same folds "
        "(features, protocol, fold seed) as evaluate",
    )
    _add_data_args(s)
    g = s.add_argument_group("protocol and classifier")
    _add_protocol_args(g)
    g.add_argument(
        "--classifier",
        choices=CLASSIFIERS,
        default="logreg",
        help="logreg (L2, C=0.01) or svm (RBF, C=10) on standardised utterance "
        "vectors (frame features: mean/std/p10/p90 over time)",
    )
    g.add_argument(
        "--speaker-norm",
        nargs="?",
        const="full",
        default="none",
        choices=BASELINE_SPEAKER_NORMS,
        help="z-score each speaker with its own statistics, the test speaker's "
        "included: NOT the speaker-independent protocol. full (the value alone): all of "
        "a test speaker's clips at once, reported as '<protocol>+speaker_norm'; running: "
        "the clips one by one through the runtime's calibration, "
        "'<protocol>+running_speaker_norm'; neutral_heavy: calibrated on all of a test "
        "speaker's neutral clips and a quarter of each other emotion's (a mostly calm "
        "user), '<protocol>+neutral_heavy_speaker_norm'",
    )
    g.add_argument(
        "--corpus-norm",
        action="store_true",
        help="z-score each corpus with its own statistics, the test corpus' "
        "unlabelled audio included (an unlabelled calibration on the user's "
        "audio); reported as '<protocol>+corpus_norm'",
    )
    s.add_argument("--out", default="", help="also write the report JSON to this file")
    s.add_argument(
        "--predictions",
        default="",
        metavar="DIR",
        help="also write the report and every test utterance's probabilities to DIR "
        "(report.json + predictions.npz, as evaluate does), so `fuse` can fuse them",
    )

    s = sub.add_parser(
        "fuse",
        help="late fusion: weighted mean of the utterance probabilities "
        "of evaluated runs (same corpus, protocol and utterances)",
    )
    s.add_argument("runs", nargs="+", help="`evaluate` output folders (with predictions.npz)")
    s.add_argument(
        "--weights",
        type=float,
        nargs="+",
        help="one non-negative weight per run, fixed in advance (default: equal)",
    )
    s.add_argument("--int8", action="store_true", help="fuse the int8 models' probabilities")
    s.add_argument("--out", default="", help="also write the report JSON to this file")

    s = sub.add_parser(
        "summary",
        help="Markdown table of evaluated runs or published models, "
        "one row each, read from their report.json or bundle",
    )
    s.add_argument(
        "runs",
        nargs="+",
        help="`evaluate` or `run` output folders, report.json "
        "files, or .edgeser bundles (their evaluation)",
    )
    s.add_argument(
        "--out",
        default="",
        help="also write the table as a Markdown page here (e.g. recipes/RESULTS.md)",
    )
    s.add_argument(
        "--sort",
        choices=SORT_KEYS,
        default="none",
        help="row order: as given (none), best float UA first (ua) or best int8 UA first (int8_ua)",
    )

    s = sub.add_parser(
        "run",
        help="whole recipe: evaluate, fit on all data for the median best epoch, export bundles",
    )
    _add_data_args(s)
    _add_train_args(s)
    s.add_argument(
        "--out", default="", help="run folder (default runs/<recipe name> when a recipe is given)"
    )
    s.add_argument("--name", default="", help="bundle name (default <corpus>-<model>)")
    s.add_argument(
        "--install-to",
        default="",
        help="also copy the int8 bundle and its model card here (e.g. edgeser/models)",
    )
    s.add_argument(
        "--save-fold-models",
        action="store_true",
        help="keep every fold's int8 bundle and its test list in "
        "<out>/evaluation/folds (for python -m benchmarks.robustness)",
    )
    _add_resume_arg(s)

    s = sub.add_parser(
        "similarity",
        help="multi-level SER stage 0: class similarity by average hashing of spectrogram "
        "images; prints the Hamming distance matrix and the high-similarity set S",
    )
    _add_data_args(s)
    s.add_argument("--size", type=int, default=16, help="hash image size n (n x n bits)")
    s.add_argument(
        "--fraction", type=float, default=0.1, help="share of each class hashed (%(default)s)"
    )
    s.add_argument(
        "--image",
        choices=("spectrogram", "log_mel"),
        default="spectrogram",
        help="image of each clip: log spectrogram or log-mel (%(default)s)",
    )
    s.add_argument("--set-size", type=int, default=2, help="classes in S (%(default)s)")
    s.add_argument("--seed", type=int, default=0, help="sample seed (%(default)s)")
    s.add_argument(
        "--out", default="", help="JSON file (default runs/similarity-<corpus>-<labels>.json)"
    )

    s = sub.add_parser(
        "multilevel",
        help="multi-level SER stages 1 and 2: evaluate a coarse model (S merged) and a fine "
        "model (S only) on the same folds and score the cascade",
    )
    _add_data_args(s)
    _add_train_args(s)
    s.add_argument(
        "--similar",
        required=True,
        help="the high-similarity set S, comma-separated labels (e.g. from `similarity`)",
    )
    s.add_argument("--fine-model", default="", help="model of stage 2 (default --model)")
    s.add_argument(
        "--fine-hparams",
        default="",
        help="hyper-parameters of stage 2 as JSON (default --hparams), e.g. "
        "'{\"lstm_layers\": 2}' for the thesis' double LSTM",
    )
    s.add_argument("--out", required=True, help="folder: stage1/, stage2/, report.json")
    s.add_argument(
        "--export",
        action="store_true",
        help="then train both stages on every utterance (each for its median best epoch) and "
        "write the cascade as one bundle, <name>-int8.edgeser / -float32.edgeser in --out",
    )
    s.add_argument("--name", default="", help="bundle name (default <corpus>-multilevel-<model>)")
    _add_resume_arg(s)

    s = sub.add_parser(
        "speech-gate",
        help="train the learned voice gate (speech vs noise, music, tones) on the corpora "
        "and the noise folder's train split; export its bundles",
    )
    s.add_argument("--out", required=True, help="run folder")
    s.add_argument(
        "--data",
        default="",
        help="folder of the six corpora (default $EDGESER_DATASETS or ../shared/datasets)",
    )
    s.add_argument(
        "--noise-dir", default="", help="noise folder (default $EDGESER_NOISE or ../shared/noise)"
    )
    s.add_argument("--epochs", type=int, default=12)
    s.add_argument("--utterances-per-corpus", type=int, default=160)
    s.add_argument(
        "--noise-copies",
        type=int,
        default=8,
        help="perturbed copies (speed 0.8-1.25, room, telephone band, gain) of every training "
        "noise recording (%(default)s; 0 = the recordings as they are)",
    )
    s.add_argument("--seed", type=int, default=0)
    s.add_argument(
        "--install-to",
        default="",
        help="also copy the int8 bundle here (e.g. edgeser/models/detectors)",
    )
    return p


def read_recipe(path: str) -> dict:
    """The option values of a recipe file: TOML (``.toml``) or JSON; keys starting with ``_``
    are comments."""
    try:
        text = Path(path).read_text(encoding="utf-8")
        if path.endswith(".toml"):
            try:
                import tomllib
            except ModuleNotFoundError:  # Python 3.10
                import tomli as tomllib
            values = tomllib.loads(text)
        else:
            values = json.loads(text)
    except (OSError, UnicodeDecodeError, ValueError) as exc:  # TOML/JSON errors are ValueErrors
        raise SystemExit(f"recipe {path}: {exc}") from None
    if not isinstance(values, dict):
        raise SystemExit(f"recipe {path}: not a table of option values")
    return {k: v for k, v in values.items() if not k.startswith("_")}


# Recipe keys a subcommand takes on its command line but not from a recipe: a recipe's ``name``
# names the recipe's own model, while `multilevel` builds a cascade of two such models and names
# it <corpus>-multilevel-<model> unless --name says otherwise.
RECIPE_KEYS_NOT_FOR: dict[str, frozenset[str]] = {"multilevel": frozenset({"name"})}


def apply_recipe(p: argparse.ArgumentParser, argv: list[str]) -> None:
    """Read the recipe (``<command> RECIPE`` or ``--recipe RECIPE``) and make its values the
    defaults of the subcommand. Keys that only other subcommands take (e.g. ``name`` for
    `evaluate`) are ignored, so one recipe serves evaluate, fit and run; keys no subcommand
    takes are an error."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("command", nargs="?")
    pre.add_argument("--recipe", default="")
    known, _ = pre.parse_known_args(argv)
    sub = next(a for a in p._actions if isinstance(a, argparse._SubParsersAction))
    if not known.command or known.command not in sub.choices:
        return
    parser = sub.choices[known.command]
    dests = {a.dest for a in parser._actions}
    positional = argv[argv.index(known.command) + 1 :][:1]
    path = known.recipe or (
        positional[0]
        if "recipe_file" in dests and positional and not positional[0].startswith("-")
        else ""
    )
    if not path:
        return
    values = read_recipe(path)
    every = {a.dest for sp in sub.choices.values() for a in sp._actions}
    unknown = sorted(set(values) - every)
    if unknown:
        raise SystemExit(f"recipe {path}: unknown option(s) {unknown}")
    ignored = RECIPE_KEYS_NOT_FOR.get(known.command, frozenset())
    values = {k: v for k, v in values.items() if k in dests and k not in ignored}
    for k in ("hparams", "augment"):  # JSON-valued options may be written as objects
        if isinstance(values.get(k), dict):
            values[k] = json.dumps(values[k])
    parser.set_defaults(**values)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    apply_recipe(parser, argv)
    a = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if a.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    warnings.filterwarnings("ignore", message=".*shuffle=True.*was passed")
    if a.command == "summary":
        return _summary(a)
    if a.command == "speech-gate":
        return _speech_gate(a)
    if a.command == "similarity":
        return _similarity(a)
    from . import recipe
    from .checkpoint import CheckpointMismatch

    if a.command == "extract":
        cfg = _config(a)
        t = recipe.load_table(cfg, for_model=False)
        print(f"{len(t)} utterances, {t.dim}-dim {t.choice.label}, {len(t.skipped)} skipped")
        for f, why in t.skipped:
            print(f"  skipped {f}: {why}")
        return 0
    if a.command == "export":
        evaluation = json.loads(Path(a.report).read_text()) if a.report else None
        paths = recipe.export_dir(Path(a.model_dir), Path(a.out), a.name, evaluation)
        _print_paths(paths)
        if evaluation:
            from .model_card import write_model_card

            print(
                write_model_card(paths["int8"], evaluation, "python -m train " + shlex.join(argv))
            )
        return 0
    if a.command == "baseline":
        return _baseline(a)
    if a.command == "card":
        return _card(a)
    if a.command == "fuse":
        return _fuse(a)
    if a.command == "run" and not a.out:
        recipe_path = a.recipe or a.recipe_file
        if not recipe_path:
            parser.error("run: --out is required without a recipe")
        a.out = str(Path("runs") / Path(recipe_path).stem)
    cfg = _config(a)
    out = Path(a.out)
    # Features first: openSMILE aborts the process when TensorFlow is already loaded in it
    # (native heap clash seen with opensmile 2.6 + TF 2.21), and setting up the device loads TF.
    table = recipe.load_table(cfg)
    copies = recipe.load_copies(cfg, table)
    from .device import setup_device

    dev = setup_device(cfg.device, cfg.cpu_replicas)
    print(f"device: {dev.description}", flush=True)
    if a.command == "multilevel":
        return _multilevel(a, cfg, dev, table, copies)

    def evaluate(folder: Path) -> dict:
        """The evaluation of `evaluate` and `run`; a foreign checkpoint is a usage error."""
        try:
            r = recipe.evaluate(
                cfg,
                folder,
                dev=dev,
                table=table,
                copies=copies,
                save_folds=a.save_fold_models,
                resume=a.resume,
            )
        except CheckpointMismatch as exc:
            parser.exit(2, f"error: {exc}\n")
        _print_summary(r, folder)
        return r

    if a.command == "evaluate":
        evaluate(out)
        return 0
    if a.command == "fit":
        d = recipe.fit_all(cfg, out, cfg.epochs, dev=dev, table=table, copies=copies)
        print(f"trained model saved in {d}")
        return 0
    # run
    r = evaluate(out / EVALUATION_DIR)
    model_dir = recipe.fit_all(
        cfg, out / "final", max(1, r["median_best_epoch"]), dev=dev, table=table, copies=copies
    )
    name = a.name or f"{cfg.corpus.replace(',', '+')}-{cfg.model}"
    paths = recipe.export_dir(model_dir, out, name, r)
    _print_paths(paths)
    from .model_card import write_model_card

    command = "python -m train " + shlex.join(argv)
    write_model_card(paths["int8"], r, command)
    if a.install_to:
        import shutil

        dest = Path(a.install_to)
        dest.mkdir(parents=True, exist_ok=True)
        installed = dest / paths["int8"].name
        shutil.copy2(paths["int8"], installed)
        print(f"installed {installed}")
        # written in place, so the installed card's hand-written (kept) blocks survive
        print(f"installed {write_model_card(installed, r, command)}")
    return 0


def _similarity(a: argparse.Namespace) -> int:
    from .corpora import corpus_path, load_corpus
    from .report import write_json
    from .similarity import class_similarity

    cfg = _config(a)
    if len(cfg.corpora) > 1:
        raise SystemExit("similarity: one corpus at a time")
    corpus = load_corpus(cfg.corpus, corpus_path(cfg.corpora, cfg.data, cfg.corpus))
    corpus = corpus.relabel(cfg.labels)
    if cfg.subset:
        corpus = corpus.subset(cfg.subset)
    try:
        r = class_similarity(
            corpus, a.size, a.fraction, a.seed, cfg.frontend_config(), a.image, a.set_size
        )
    except ValueError as exc:
        raise SystemExit(f"similarity: {exc}") from None
    print(f"{corpus.name} ({cfg.labels} labels), {a.image} average hashes of {a.size}x{a.size}:")
    print(r.table())
    out = Path(a.out or f"runs/similarity-{corpus.name}-{cfg.labels}.json")
    d = {
        "corpus": cfg.corpus,
        "label_set": cfg.labels,
        "image": a.image,
        "fraction": a.fraction,
        "seed": a.seed,
        "frontend": cfg.frontend_config().to_dict(),
        **r.to_dict(),
    }
    write_json(out, d)
    print(f"written {out}")
    return 0


def _multilevel(a: argparse.Namespace, cfg: TrainConfig, dev, table, copies) -> int:
    from .similarity import evaluate_multilevel

    similar = [c.strip() for c in a.similar.split(",") if c.strip()]
    fine_hp = _json_arg(a.fine_hparams, "--fine-hparams") if a.fine_hparams else None
    try:
        r = evaluate_multilevel(
            cfg,
            similar,
            Path(a.out),
            a.fine_model or None,
            fine_hp,
            dev,
            table,
            copies,
            resume=a.resume,
        )
    except ValueError as exc:  # also a foreign checkpoint (CheckpointMismatch)
        raise SystemExit(f"multilevel: {exc}") from None
    for stage in ("stage1", "stage2"):
        f = r[stage]["float"]
        print(f"  {stage} ({r[stage]['model']}): float WA {f['WA']:.4f} UA {f['UA']:.4f}")
    f = r["float"]
    msg = f"{r['corpus']} {r['protocol']} {r['model']} S={r['S']}: float WA {f['WA']:.4f} UA "
    msg += f"{f['UA']:.4f}"
    if "int8" in r:
        msg += f" | int8 WA {r['int8']['WA']:.4f} UA {r['int8']['UA']:.4f}"
    print(msg + f" | report {Path(a.out) / REPORT_FILE}")
    if a.export:
        from .similarity import fit_multilevel

        name = a.name or f"{cfg.corpus.replace(',', '+')}-multilevel-{cfg.model}"
        epochs = tuple(max(1, int(r[s]["median_best_epoch"])) for s in ("stage1", "stage2"))
        paths = fit_multilevel(
            cfg,
            similar,
            Path(a.out),
            name,
            (epochs[0], epochs[1]),
            a.fine_model or None,
            fine_hp,
            dev,
            table,
            copies,
            evaluation=r,
        )
        _print_paths(paths)
    return 0


def _speech_gate(a: argparse.Namespace) -> int:
    import shutil

    from .speech_gate import GateConfig, train_gate

    try:
        cfg = GateConfig(
            epochs=a.epochs,
            utterances_per_corpus=a.utterances_per_corpus,
            noise_copies=a.noise_copies,
            seed=a.seed,
        )
    except ValueError as exc:
        raise SystemExit(f"speech-gate: {exc}") from None
    paths = train_gate(
        Path(a.out),
        cfg,
        Path(a.data) if a.data else None,
        Path(a.noise_dir) if a.noise_dir else None,
    )
    _print_paths(paths)
    if a.install_to:
        dest = Path(a.install_to)
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy2(paths["int8"], dest / paths["int8"].name)
        print(f"installed {dest / paths['int8'].name}")
    return 0


def _card(a: argparse.Namespace) -> int:
    from .model_card import write_model_card

    evaluation = json.loads(Path(a.report).read_text())
    rob = None
    if a.robustness:
        entries = json.loads(Path(a.robustness).read_text())["models"]
        rob = next((e for e in entries if not a.series or e["model"] == a.series), None)
        if rob is None:
            raise SystemExit(
                f"card: no entry {a.series!r} in {a.robustness}; have "
                f"{[e['model'] for e in entries]}"
            )
    print(write_model_card(Path(a.bundle), evaluation, a.train_command, rob))
    return 0


def _baseline(a: argparse.Namespace) -> int:
    from . import recipe
    from .baselines import evaluate_baseline
    from .report import REPORT_FILE, write_json

    cfg = _config(a)
    table = recipe.load_table(cfg, for_model=False)
    r = evaluate_baseline(
        table, cfg, a.classifier, a.speaker_norm, a.corpus_norm, with_probs=bool(a.predictions)
    )
    if a.predictions:
        out = Path(a.predictions)
        out.mkdir(parents=True, exist_ok=True)
        recipe.save_predictions(
            out / recipe.PREDICTIONS_FILE, table, r.pop("tested"), r.pop("probs"), None
        )
        write_json(out / REPORT_FILE, r)
    f = r["float"]
    print(
        f"{r['corpus']} {r['protocol']} {r['classifier']} on {r['input_dim']}-dim "
        f"{cfg.feature_name}: WA {f['WA']:.4f} UA {f['UA']:.4f} macro-F1 {f['macro_F1']:.4f}"
    )
    _print_per_corpus(r.get("per_corpus"))
    if a.out:
        write_json(Path(a.out), r)
    return 0


def _fuse(a: argparse.Namespace) -> int:
    from .fusion import fuse
    from .report import write_json

    try:
        r = fuse([Path(p) for p in a.runs], a.weights, "int8" if a.int8 else "float")
    except (OSError, ValueError) as exc:
        raise SystemExit(f"fuse: {exc}") from None
    for run, ua in r["members"].items():
        print(f"  {run}: UA {ua:.4f}")
    f = r["fused"]
    print(
        f"{r['corpus']} {r['protocol']} fusion of {' + '.join(r['models'])} "
        f"({r['quantization']}, weights {r['weights']}): WA {f['WA']:.4f} UA {f['UA']:.4f} "
        f"macro-F1 {f['macro_F1']:.4f}"
    )
    _print_per_corpus(r.get("per_corpus"))
    if a.out:
        write_json(Path(a.out), r)
    return 0


def _summary(a: argparse.Namespace) -> int:
    from .summary import load_summary, results_page, summary_table

    rows, failed = [], 0
    for p in a.runs:
        try:
            rows.append(load_summary(Path(p)))
        except (OSError, ValueError) as exc:
            print(f"summary: skipped {exc}", file=sys.stderr)
            failed += 1
    if rows:
        table = summary_table(rows, a.sort)
        print(table)
        if a.out:
            command = "python -m train summary " + " ".join(shlex.quote(r) for r in a.runs)
            page = results_page(table, f"{command} --out {shlex.quote(a.out)}")
            Path(a.out).parent.mkdir(parents=True, exist_ok=True)
            Path(a.out).write_text(page, encoding="utf-8")
    return 1 if failed else 0


def _print_summary(r: dict, out: Path) -> None:
    f = r["float"]
    msg = (
        f"{r['corpus']} {r['protocol']} {r['model']}: float WA {f['WA']:.4f} UA {f['UA']:.4f} "
        f"macro-F1 {f['macro_F1']:.4f}"
    )
    if "int8" in r:
        i = r["int8"]
        msg += (
            f" | int8 WA {i['WA']:.4f} UA {i['UA']:.4f} (drop {r['int8_UA_drop_points']} "
            f"points, {r['int8_bytes_max']} bytes)"
        )
    print(msg + f" | {r['seconds']} s | report {out / REPORT_FILE}")
    for q, per in (r.get("per_corpus") or {}).items():
        print(f"  {q}:", end="")
        _print_per_corpus(per)


def _print_per_corpus(per: dict | None) -> None:
    if per:
        print("  per corpus UA: " + ", ".join(f"{k} {v['UA']:.3f}" for k, v in per.items()))


def _print_paths(paths: dict) -> None:
    for q, p in paths.items():
        print(f"{q}: {p} ({p.stat().st_size} bytes)")
