"""`TrainConfig`: every setting of a training / evaluation run, validated, JSON round-trip."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from edgeser.frontend import FrontendConfig
from edgeser.frontend.config import COMBINED_KINDS, KINDS, PRESETS
from edgeser.windows import WINDOW_NORMS

from .augment import AugmentConfig
from .corpora import LABEL_SETS, parse_corpus_list
from .models import check_model, default_features
from .protocols import PROTOCOLS

DEVICES = ("auto", "cpu", "gpu")
LR_SCHEDULES = ("constant", "cosine")
OPTIMIZERS = ("adam", "rmsprop")
# val_ua: keep the epoch with the best validation UA (validation speakers taken from training);
# fixed: train every epoch on the whole training part and keep the last (no validation split).
SELECTIONS = ("val_ua", "fixed")
# Front-end preset used when none is given, per feature kind.
DEFAULT_PRESETS = {"log_mel": "default", "mfcc": "dycnn_mfcc39", "spectrogram": "default"}
# Training-example weights: balanced classes, or balanced (corpus, class) cells so that the
# biggest corpus does not decide; none = every window counts once.
BALANCES = ("corpus_class", "class", "none")
# Speaker calibration of functional features (edgeser.calibration): none; running = every test
# speaker's clips replayed one by one through a SpeakerCalibration, as a device calibrates;
# full = each test speaker with the statistics of all its clips (the upper bound). Training
# speakers always use all of their clips. Both use unlabelled test audio: own protocol names.
SPEAKER_NORMS = ("none", "running", "full")
# How a protocol that used test speakers' audio is reported (the baselines also measure
# "neutral_heavy": a calibration on a mostly neutral sample of each test speaker's clips).
PROTOCOL_SUFFIX = {
    "none": "",
    "full": "+speaker_norm",
    "running": "+running_speaker_norm",
    "neutral_heavy": "+neutral_heavy_speaker_norm",
}
SPEAKER_INDEPENDENT = ("loso", "loco", "group_kfold")
# Features whose mel filters VTLP warps (for spectrogram+log_mel, the mel part only).
VTLP_FEATURES = ("log_mel", "mfcc", "spectrogram+log_mel")


@dataclass(frozen=True)
class TrainConfig:
    """One run: data, features, model, protocol and optimisation settings."""

    corpus: str  # one corpus, or several joined by commas (then `data` holds their folders)
    data: str
    labels: str = "native"  # native (the corpus' own) | core (4 shared) | extended
    model: str = "cnn_lstm_2d"
    features: str = ""  # "" = the model's default (see train.models.MODELS)
    frontend_preset: str = ""  # "" = per-kind default (DEFAULT_PRESETS)
    n_mels: int = 0  # 0 = the preset's value
    log_floor: float = 0.0  # 0 = the preset's value (the front end's power floor before log)
    protocol: str = "loso"
    k: int = 10
    val_fraction: float = 0.1
    test_fraction: float = 0.1
    seed: int = 0
    epochs: int = 100
    batch_size: int = 32
    learning_rate: float = 1e-3
    optimizer: str = "adam"  # see OPTIMIZERS (the DyCNN paper: rmsprop, lr 0.01, batch 200)
    lr_schedule: str = "constant"  # constant | cosine (decays to 0 over `epochs`)
    patience: int = 10
    selection: str = "val_ua"  # see SELECTIONS
    window_s: float = 1.5  # model input length (front-end models)
    hop_s: float = 0.5  # window hop at evaluation and in the runtime
    train_hop_s: float = 0.25  # window hop for training examples
    spec_augment: bool = True
    class_weight: bool = True  # False = balance "none" (kept for old configs and the CLI)
    balance: str = "corpus_class"  # see BALANCES; equals "class" for one corpus
    window_norm: str = "none"  # see WINDOW_NORMS
    window_floor_db: float = 0.0  # >0: floor each band of a window this far below its peak
    speaker_norm: str = "none"  # see SPEAKER_NORMS (functional features only)
    augment: Mapping[str, Any] = dataclasses.field(default_factory=dict)  # AugmentConfig fields
    hparams: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    members: int = 1  # >1: an ensemble of this many networks (seeds seed..seed+members-1)
    select_features: int = 0  # >0: keep this many functionals (ANOVA F on each training part)
    speed_perturb: tuple[float, ...] = ()  # extra training copies played this much faster
    # VTLP class balancing: copies of minority-class training utterances, each with its own
    # random mel warp factor (uniform in augment's vtlp_alpha), until every class of the
    # training part has as many utterances as its largest class (front-end mel features only)
    vtlp_balance: bool = False
    device: str = "auto"
    cpu_replicas: int = 1
    int8_eval: bool = True
    cache: str = ".cache/features"
    subset: int = 0  # >0: keep at most this many files per (speaker, label) (smoke tests)

    def __post_init__(self) -> None:
        def bad(name: str, why: str) -> ValueError:
            return ValueError(f"TrainConfig.{name}={getattr(self, name)!r}: {why}")

        try:
            names = parse_corpus_list(self.corpus)
        except ValueError as exc:
            raise bad("corpus", str(exc)) from None
        if self.labels not in LABEL_SETS:
            raise bad("labels", f"must be one of {LABEL_SETS}")
        if len(names) > 1 and self.labels == "native":
            raise bad("labels", "several corpora need a shared label set: core or extended")
        if self.protocol in ("loco",) and len(names) < 2:
            raise bad("protocol", "leave-one-corpus-out needs at least two corpora")
        if self.balance not in BALANCES:
            raise bad("balance", f"must be one of {BALANCES}")
        if self.window_norm not in WINDOW_NORMS:
            raise bad("window_norm", f"must be one of {WINDOW_NORMS}")
        if not (math.isfinite(self.window_floor_db) and 0 <= self.window_floor_db <= 200):
            raise bad("window_floor_db", "must be 0 (off) or a number of dB up to 200")
        if self.window_floor_db and self.feature_name != "log_mel":
            raise bad("window_floor_db", "floors log-mel energies: features must be log_mel")
        if self.speaker_norm not in SPEAKER_NORMS:
            raise bad("speaker_norm", f"must be one of {SPEAKER_NORMS}")
        if self.speaker_norm != "none" and self.feature_name in (*KINDS, *COMBINED_KINDS):
            raise bad("speaker_norm", "z-scores functional vectors: features must be functionals")
        if self.speaker_norm != "none" and self.protocol not in SPEAKER_INDEPENDENT:
            raise bad(
                "speaker_norm",
                f"calibrates unseen speakers: the protocol must be one of {SPEAKER_INDEPENDENT}",
            )
        if not (math.isfinite(self.log_floor) and 0 <= self.log_floor < 1):
            raise bad("log_floor", "must be 0 (the preset's) or a power floor in (0, 1)")
        try:
            AugmentConfig.from_dict(dict(self.augment))
        except (TypeError, ValueError) as exc:
            raise bad("augment", str(exc)) from None
        check_model(self.model)
        if self.vtlp_balance and self.feature_name not in VTLP_FEATURES:
            raise bad("vtlp_balance", f"VTLP warps mel filters: features must be {VTLP_FEATURES}")
        if self.protocol not in PROTOCOLS:
            raise bad("protocol", f"must be one of {PROTOCOLS}")
        if self.frontend_preset and self.frontend_preset not in PRESETS:
            raise bad("frontend_preset", f"must be one of {sorted(PRESETS)}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise bad("lr_schedule", f"must be one of {LR_SCHEDULES}")
        if self.optimizer not in OPTIMIZERS:
            raise bad("optimizer", f"must be one of {OPTIMIZERS}")
        if not isinstance(self.vtlp_balance, bool):
            raise bad("vtlp_balance", "must be true or false")
        if self.selection not in SELECTIONS:
            raise bad("selection", f"must be one of {SELECTIONS}")
        if self.device not in DEVICES:
            raise bad("device", f"must be one of {DEVICES}")
        for name in ("k", "epochs", "batch_size", "cpu_replicas", "members"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise bad(name, "must be a positive integer")
        for name in ("n_mels", "patience", "subset", "seed", "select_features"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise bad(name, "must be a non-negative integer")
        try:
            speeds = tuple(float(v) for v in self.speed_perturb)
        except (TypeError, ValueError):
            raise bad("speed_perturb", "must be a list of numbers") from None
        object.__setattr__(self, "speed_perturb", speeds)  # JSON lists -> tuple
        if any(not 0.5 <= v <= 2.0 or v == 1.0 for v in speeds) or len(set(speeds)) != len(speeds):
            raise bad("speed_perturb", "factors must be distinct, in [0.5, 2.0] and not 1.0")
        if self.protocol == "kfold" and self.k < 2:
            raise bad("k", "k-fold needs k >= 2")
        for name in ("val_fraction", "test_fraction"):
            if not 0.0 < getattr(self, name) < 0.5:
                raise bad(name, "must be in (0, 0.5)")
        for name in ("learning_rate", "window_s", "hop_s", "train_hop_s"):
            if not getattr(self, name) > 0:
                raise bad(name, "must be positive")

    @property
    def corpora(self) -> tuple[str, ...]:
        return parse_corpus_list(self.corpus)

    @property
    def augment_config(self) -> AugmentConfig:
        return AugmentConfig.from_dict(dict(self.augment))

    @property
    def example_balance(self) -> str:
        """The balance actually applied: class_weight=False turns weighting off."""
        return self.balance if self.class_weight else "none"

    @property
    def protocol_name(self) -> str:
        """The protocol as reported: a calibration on test speakers' audio is named."""
        return self.protocol + PROTOCOL_SUFFIX[self.speaker_norm]

    @property
    def feature_name(self) -> str:
        return self.features or default_features(self.model)

    def frontend_config(self) -> FrontendConfig:
        preset = self.frontend_preset or DEFAULT_PRESETS.get(self.feature_name, "default")
        overrides: dict[str, Any] = {"n_mels": self.n_mels} if self.n_mels else {}
        if self.log_floor:
            overrides["log_floor"] = self.log_floor
        return FrontendConfig.preset(preset, **overrides)

    def frames(self, seconds: float) -> int:
        shift_s = self.frontend_config().frame_shift_ms / 1000.0
        return max(1, int(round(seconds / shift_s)))

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["hparams"] = dict(self.hparams)
        d["augment"] = dict(self.augment)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TrainConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown TrainConfig fields: {unknown}")
        return cls(**dict(d))

    def replace(self, **changes: Any) -> TrainConfig:
        return dataclasses.replace(self, **changes)
