"""Feature extraction for a corpus, cached on disk.

Three families: edgeser front-end frames (`[frames, dim]` per utterance, exactly what the
runtime computes), edgeser's own voice functionals (`[dim]` per utterance, e.g.
``edgeser-gemaps-v1``) and openSMILE functionals (`[dim]` per utterance). The cache file name
holds a hash of the feature settings and of the file list (names, sizes, modification times),
so a change to either gives a new cache entry instead of stale features.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edgeser.calibration import CalibrationPrior
from edgeser.errors import AudioDecodeError
from edgeser.feature_configs import (
    FeatureSpec,
    FrontendFeatures,
    FunctionalFeatures,
    OpenSmileFeatures,
)
from edgeser.frontend import FrontendConfig, functionals
from edgeser.frontend import features as frontend_features
from edgeser.frontend.config import COMBINED_KINDS, KINDS
from edgeser.frontend.descriptor_config import DescriptorConfig
from edgeser.opensmile_sets import OPENSMILE_SETS, make_smile

from .augment import Augmenter, NoiseBank, Perturbation
from .corpora import SAMPLE_RATE, Corpus, read_audio

log = logging.getLogger(__name__)

# Short names accepted on the command line for openSMILE sets.
OPENSMILE_ALIASES = {"egemaps": "eGeMAPSv02", "compare": "ComParE_2016", "is09": "IS09_emotion"}
# Short names for edgeser's own functional sets (no openSMILE at predict time).
FUNCTIONAL_ALIASES = {
    "gemaps": functionals.SET_V1,
    "large": functionals.SET_LARGE_V2,  # the current version of the larger set
    "large-v1": functionals.SET_LARGE_V1,
}
CACHE_VERSION = 1


@dataclass(frozen=True)
class FeatureChoice:
    """Which features to extract: front-end `kind` with `frontend`, an edgeser functional set
    (`functional_set` over `descriptors`), or an openSMILE set."""

    type: str  # "frontend" | "functionals" | "opensmile"
    kind: str | None = None
    frontend: FrontendConfig | None = None
    opensmile_set: str | None = None
    functional_set: str | None = None
    descriptors: DescriptorConfig | None = None

    def __post_init__(self) -> None:
        if self.type == "frontend":
            kinds = (*KINDS, *COMBINED_KINDS)
            if self.kind not in kinds or not isinstance(self.frontend, FrontendConfig):
                raise ValueError(f"front-end features need kind in {kinds} and a FrontendConfig")
            if self.kind in COMBINED_KINDS:
                self.frontend.require_combinable(self.kind)
            if self.frontend.sample_rate != SAMPLE_RATE:
                raise ValueError(
                    f"training resamples to {SAMPLE_RATE} Hz; the front-end config "
                    f"says {self.frontend.sample_rate}"
                )
        elif self.type == "opensmile":
            if self.opensmile_set not in OPENSMILE_SETS:
                raise ValueError(f"opensmile_set must be one of {OPENSMILE_SETS}")
        elif self.type == "functionals":
            if self.functional_set not in functionals.FEATURE_SETS:
                raise ValueError(
                    f"functional_set must be one of {sorted(functionals.FEATURE_SETS)}"
                )
            if not isinstance(self.descriptors, DescriptorConfig):
                raise ValueError("functional features need a DescriptorConfig")
            if self.descriptors.sample_rate != SAMPLE_RATE:
                raise ValueError(
                    f"training resamples to {SAMPLE_RATE} Hz; the descriptor config says "
                    f"{self.descriptors.sample_rate}"
                )
        else:
            raise ValueError(
                f"unknown feature type {self.type!r} (frontend | functionals | opensmile)"
            )

    @classmethod
    def parse(cls, name: str, frontend: FrontendConfig | None = None) -> FeatureChoice:
        """`log_mel` / `mfcc` / `spectrogram` / `spectrogram+log_mel` (with `frontend`),
        gemaps (edgeser-gemaps-v1) / large (edgeser-large-v2; large-v1), edgeser's own, or egemaps /
        compare / is09 (openSMILE)."""
        if name in KINDS or name in COMBINED_KINDS:
            return cls("frontend", kind=name, frontend=frontend or FrontendConfig())
        fset = FUNCTIONAL_ALIASES.get(name.lower(), name)
        if fset in functionals.FEATURE_SETS:
            return cls("functionals", functional_set=fset, descriptors=DescriptorConfig())
        set_name = OPENSMILE_ALIASES.get(name.lower(), name)
        if set_name in OPENSMILE_SETS:
            return cls("opensmile", opensmile_set=set_name)
        raise ValueError(
            f"unknown features {name!r}; choose from {(*KINDS, *COMBINED_KINDS)}, "
            f"{sorted(FUNCTIONAL_ALIASES)} (edgeser functionals) or {sorted(OPENSMILE_ALIASES)} "
            "(openSMILE)"
        )

    @property
    def is_sequence(self) -> bool:
        return self.type == "frontend"

    @property
    def label(self) -> str:
        if self.type == "frontend":
            return self.kind
        return self.functional_set if self.type == "functionals" else self.opensmile_set

    def spec(
        self,
        window_frames: int | None = None,
        hop_frames: int | None = None,
        window_norm: str = "none",
        select: Any = None,
        window_floor_db: float = 0.0,
        speaker_calibration: CalibrationPrior | None = None,
    ) -> FeatureSpec:
        """The bundle's feature config for a model trained on these features (windows for
        front-end frames; `select`: the functionals a functional model reads;
        `speaker_calibration`: the prior of a speaker-calibrated functional model)."""
        if speaker_calibration is not None and self.type != "functionals":
            raise ValueError(
                "speaker calibration is stored for edgeser's own functionals only; "
                f"{self.label} cannot carry it"
            )
        if self.type == "frontend":
            return FrontendFeatures(
                frontend=self.frontend,
                kind=self.kind,
                window_frames=window_frames,
                hop_frames=hop_frames,
                window_norm=window_norm,
                window_floor_db=window_floor_db,
            )
        chosen = None if select is None else tuple(int(i) for i in select)
        if self.type == "functionals":
            return FunctionalFeatures(
                feature_set=self.functional_set,
                descriptors=self.descriptors,
                select=chosen,
                speaker_calibration=speaker_calibration,
            )
        return OpenSmileFeatures(opensmile_set=self.opensmile_set, select=chosen)

    def to_dict(self) -> dict[str, Any]:
        if self.type == "frontend":
            return {"type": "frontend", "kind": self.kind, "frontend": self.frontend.to_dict()}
        if self.type == "functionals":
            return {
                "type": "functionals",
                "functional_set": self.functional_set,
                "descriptors": self.descriptors.to_dict(),
            }
        return {"type": "opensmile", "opensmile_set": self.opensmile_set}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FeatureChoice:
        d = dict(d)
        if d.get("frontend") is not None:
            d["frontend"] = FrontendConfig.from_dict(d["frontend"])
        if d.get("descriptors") is not None:
            d["descriptors"] = DescriptorConfig.from_dict(d["descriptors"])
        return cls(**d)


@dataclass
class FeatureTable:
    """Features of a corpus: one array per kept utterance, with labels and speakers."""

    choice: FeatureChoice
    labels: tuple[str, ...]
    keys: list[str]
    feats: list[np.ndarray]
    y: np.ndarray
    speakers: np.ndarray
    skipped: list[tuple[str, str]] = field(default_factory=list)
    corpora: np.ndarray | None = None  # corpus name of each utterance
    # a VTLP class-balancing copy: training uses only the utterances `augment.balance_picks`
    # chooses from it (see TrainConfig.vtlp_balance), not all of them
    balance_copy: bool = False

    def __post_init__(self) -> None:
        if self.corpora is None:
            self.corpora = np.full(len(self.keys), "corpus")

    @property
    def dim(self) -> int:
        return int(self.feats[0].shape[-1])

    def __len__(self) -> int:
        return len(self.keys)


def cache_key(corpus: Corpus, choice: FeatureChoice, perturb_settings: dict | None = None) -> str:
    """Hash of the feature settings, the perturbation's settings and the corpus file list
    (path, label, speaker, size, mtime)."""
    h = hashlib.sha256()
    settings = {"v": CACHE_VERSION, "corpus": corpus.name, "features": choice.to_dict()}
    settings.update(perturb_settings or {})  # unperturbed keys stay what they were
    h.update(json.dumps(settings, sort_keys=True).encode())
    for u in corpus.utterances:
        st = u.path.stat()
        h.update(f"{u.key}|{u.label}|{u.speaker}|{st.st_size}|{int(st.st_mtime)}\n".encode())
    return h.hexdigest()[:20]


def _opensmile_extractor(set_name: str):
    smile = make_smile(set_name, needed_by=f"training on {set_name}")
    return lambda x, alpha=1.0: (
        smile.process_signal(x, SAMPLE_RATE).to_numpy(np.float32).reshape(-1)
    )


def _extractor(choice: FeatureChoice):
    """fn(samples, vtlp_alpha) -> features; VTLP warps the front end's mel filters only."""
    if choice.type == "frontend":

        def fn(x: np.ndarray, alpha: float = 1.0) -> np.ndarray:
            cfg = choice.frontend if alpha == 1.0 else choice.frontend.replace(vtlp_alpha=alpha)
            return frontend_features(x, cfg, choice.kind)

        return fn
    if choice.type == "functionals":
        return lambda x, alpha=1.0: functionals.extract(
            x, choice.functional_set, choice.descriptors
        )
    return _opensmile_extractor(choice.opensmile_set)


def extract(
    corpus: Corpus,
    choice: FeatureChoice,
    cache_dir: str | Path | None = None,
    progress: bool = True,
    perturb: Perturbation | None = None,
    bank: NoiseBank | None = None,
) -> FeatureTable:
    """Features of every readable utterance, of its `perturb`ed copy when given (speed, or an
    augmented copy drawing noise and impulse responses from `bank`); loads from / writes to
    `cache_dir` when given."""
    perturb = perturb or Perturbation()
    tag = f"-{perturb.tag}" if perturb.tag else ""
    cache_file = None
    if cache_dir is not None:
        key = cache_key(corpus, choice, perturb.settings(bank))
        cache_file = Path(cache_dir) / f"{corpus.name}-{choice.label}{tag}-{key}.npz"
        if cache_file.is_file():
            return _load(cache_file, corpus, choice)
    from tqdm import tqdm

    fn = _extractor(choice)
    augment = Augmenter(perturb, corpus, bank)
    index = {name: i for i, name in enumerate(corpus.labels)}
    keys, feats, ys, spk = [], [], [], []
    skipped = list(corpus.skipped)
    for u in tqdm(
        corpus.utterances,
        desc=f"{corpus.name} {choice.label}{tag}",
        unit="file",
        disable=not progress,
    ):
        try:
            x, alpha = augment(read_audio(u.path), u)
            f = np.asarray(fn(x, alpha), dtype=np.float32)
        except (AudioDecodeError, ValueError) as exc:
            log.warning("skipping %s: %s", u.path, exc)
            skipped.append((str(u.path), str(exc)))
            continue
        if f.size == 0 or not np.isfinite(f).all():
            why = "no feature frames (too short)" if f.size == 0 else "non-finite features"
            log.warning("skipping %s: %s", u.path, why)
            skipped.append((str(u.path), why))
            continue
        keys.append(u.key)
        feats.append(f)
        ys.append(index[u.label])
        spk.append(u.speaker)
    if not keys:
        raise ValueError(f"{corpus.root}: no utterance could be read")
    table = FeatureTable(
        choice,
        corpus.labels,
        keys,
        feats,
        np.array(ys, dtype=np.int64),
        np.array(spk),
        skipped,
        np.full(len(keys), corpus.name),
    )
    if cache_file is not None:
        _save(cache_file, table)
    return table


def concat_tables(tables: list[FeatureTable], labels: tuple[str, ...]) -> FeatureTable:
    """Several corpora as one table over `labels`: keys and speakers become `corpus/<key>` and
    `corpus/<speaker>` (speaker ids of two corpora never collide), labels are re-indexed."""
    if len(tables) == 1 and tuple(tables[0].labels) == tuple(labels):
        return tables[0]
    index = {name: i for i, name in enumerate(labels)}
    keys, feats, ys, spk, groups, skipped = [], [], [], [], [], []
    for t in tables:
        name = str(t.corpora[0])
        remap = np.array([index[c] for c in t.labels], dtype=np.int64)
        keys += [f"{name}/{k}" for k in t.keys]
        feats += list(t.feats)
        ys.append(remap[t.y])
        spk += [f"{name}/{s}" for s in t.speakers.tolist()]
        groups += [name] * len(t)
        skipped += list(t.skipped)
    return FeatureTable(
        tables[0].choice,
        tuple(labels),
        keys,
        feats,
        np.concatenate(ys),
        np.array(spk),
        skipped,
        np.array(groups),
    )


def _save(path: Path, t: FeatureTable) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lengths = np.array([len(f) for f in t.feats], dtype=np.int64)
    flat = (
        np.concatenate([f.reshape(len(f), -1) if f.ndim == 2 else f[None, :] for f in t.feats])
        if t.choice.is_sequence
        else np.stack(t.feats)
    )
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(
        tmp,
        flat=flat,
        lengths=lengths,
        keys=np.array(t.keys),
        y=t.y,
        speakers=t.speakers,
        skipped=np.array([f"{a}\t{b}" for a, b in t.skipped]),
    )
    tmp.replace(path)


def _load(path: Path, corpus: Corpus, choice: FeatureChoice) -> FeatureTable:
    with np.load(path, allow_pickle=False) as z:
        flat, lengths = z["flat"], z["lengths"]
        if choice.is_sequence:
            feats = np.split(flat, np.cumsum(lengths)[:-1])
        else:
            feats = list(flat)
        skipped = [tuple(s.split("\t", 1)) for s in z["skipped"].tolist()]
        return FeatureTable(
            choice,
            corpus.labels,
            z["keys"].tolist(),
            feats,
            z["y"],
            z["speakers"],
            skipped,
            np.full(len(lengths), corpus.name),
        )
