"""Reference classifiers (scikit-learn) on the CLI's own folds: the bar a deep model must clear.

Same corpus, features, protocol and folds as `evaluate`; the scaler is fitted on each fold's
training part. `speaker_norm` z-scores every speaker with that speaker's own statistics: the
test speaker's unlabelled features are then used, so the result is NOT comparable with the
project's protocol (reported as a separate, named protocol). "full" gives each test speaker
all of its clips at once; "running" replays them one by one through the runtime's
`SpeakerCalibration` (prior: the fold's training part), as a device calibrates;
"neutral_heavy" calibrates each test speaker on a mostly neutral sample of its clips (all the
neutral ones and a quarter of each other emotion's), as a device whose user is mostly calm
would, and scores every clip with it (the labels only choose the sample, never fit anything).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from edgeser.calibration import (
    CalibrationPrior,
    SpeakerCalibration,
    normalise_groups,
    replay_groups,
)

from .config import PROTOCOL_SUFFIX, TrainConfig
from .data import balance_weights, select_by_f_score
from .features import FeatureTable
from .metrics import scores, scores_by_group
from .protocols import make_folds
from .report import git_commit

CLASSIFIERS = ("logreg", "svm")
PERCENTILES = (10, 90)


def utterance_vectors(table: FeatureTable) -> np.ndarray:
    """One vector per utterance: functionals as they are; frame features as their mean, std and
    10th/90th percentiles over time."""
    if not table.choice.is_sequence:
        return np.stack([np.asarray(f, np.float64).reshape(-1) for f in table.feats])
    rows = []
    for f in table.feats:
        f = np.asarray(f, np.float64)
        rows.append(np.concatenate([f.mean(0), f.std(0), *np.percentile(f, PERCENTILES, axis=0)]))
    return np.stack(rows)


SPEAKER_NORMS = ("none", "full", "running", "neutral_heavy")
OTHER_EMOTIONS_HEARD = 0.25  # of each non-neutral emotion's clips, for "neutral_heavy"


def neutral_heavy_groups(
    vectors: np.ndarray,
    groups: np.ndarray,
    y: np.ndarray,
    neutral: int,
    prior: CalibrationPrior,
    seed: int = 0,
) -> np.ndarray:
    """Every group's vectors normalised by a `SpeakerCalibration` that heard all of the
    group's neutral clips and a seeded `OTHER_EMOTIONS_HEARD` share (at least one) of each
    other class's: the calibration of a user who is mostly neutral."""
    x = np.asarray(vectors, dtype=np.float64)
    out = np.empty_like(x)
    rng = np.random.default_rng(seed)
    for g in np.unique(groups):
        idx = np.flatnonzero(groups == g)
        heard = [idx[y[idx] == neutral]]
        for c in np.unique(y[idx]):
            if c != neutral:
                of_c = idx[y[idx] == c]
                k = max(1, round(OTHER_EMOTIONS_HEARD * len(of_c)))
                heard.append(rng.choice(of_c, k, replace=False))
        cal = SpeakerCalibration(prior)
        cal.update_all(x[np.concatenate(heard)])
        out[idx] = cal.normalise(x[idx])
    return out


def _classifier(name: str, seed: int, with_probs: bool = False):
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import SVC

    if name == "logreg":  # strong L2: thousands of functionals, hundreds of utterances
        return LogisticRegression(C=0.01, max_iter=3000)
    if name == "svm":
        return SVC(C=10.0, gamma="scale", probability=with_probs, random_state=seed)
    raise ValueError(f"unknown classifier {name!r}; choose from {CLASSIFIERS}")


def evaluate_baseline(
    table: FeatureTable,
    cfg: TrainConfig,
    classifier: str = "logreg",
    speaker_norm: str = "none",
    corpus_norm: bool = False,
    with_probs: bool = False,
) -> dict[str, Any]:
    """Pooled WA/UA of `classifier` over the folds of `cfg.protocol` (validation parts join
    training: nothing is tuned per fold). `with_probs` adds every test utterance's class
    probabilities ("tested" indices, "probs") for late fusion with other models."""
    from sklearn.preprocessing import StandardScaler

    if speaker_norm not in SPEAKER_NORMS:
        raise ValueError(f"speaker_norm must be one of {SPEAKER_NORMS}, got {speaker_norm!r}")
    if speaker_norm != "none" and corpus_norm:
        raise ValueError("choose one of speaker_norm and corpus_norm")
    raw = np.nan_to_num(utterance_vectors(table), nan=0.0, posinf=0.0, neginf=0.0)
    x = raw
    if speaker_norm != "none":  # every speaker with all of its clips (test: see the folds)
        x = normalise_groups(raw, table.speakers)
    if corpus_norm:  # the same z-scoring with each corpus' own statistics
        x = normalise_groups(x, table.corpora)
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
    y_true, y_pred, tested, probs = [], [], [], []
    for fold in folds:
        train = np.concatenate([fold.train, fold.val])
        x_train, x_test = x[train], x[fold.test]
        if speaker_norm == "running":
            prior = CalibrationPrior.of(raw[train])
            x_test = replay_groups(raw[fold.test], table.speakers[fold.test], prior, cfg.seed)
        elif speaker_norm == "neutral_heavy":
            if "neutral" not in table.labels:
                raise ValueError("neutral_heavy speaker calibration needs a 'neutral' class")
            x_test = neutral_heavy_groups(
                raw[fold.test],
                table.speakers[fold.test],
                table.y[fold.test],
                table.labels.index("neutral"),
                CalibrationPrior.of(raw[train]),
                cfg.seed,
            )
        if cfg.select_features:
            keep = select_by_f_score(x_train, table.y[train], cfg.select_features)
            x_train, x_test = x_train[:, keep], x_test[:, keep]
        scaler = StandardScaler().fit(x_train)
        clf = _classifier(classifier, cfg.seed, with_probs)
        if len(np.unique(table.corpora)) > 1:  # the deep models' corpus x class balancing
            clf.fit(
                scaler.transform(x_train),
                table.y[train],
                sample_weight=balance_weights(
                    table.y[train], table.corpora[train], len(table.labels)
                ),
            )
        else:
            clf.fit(scaler.transform(x_train), table.y[train])
        tested.append(fold.test)
        if with_probs:  # the label is the most probable class, as in fusion
            p = np.zeros((len(fold.test), len(table.labels)))
            p[:, clf.classes_] = clf.predict_proba(scaler.transform(x_test))
            probs.append(p)
            y_pred.append(p.argmax(1))
        else:
            y_pred.append(clf.predict(scaler.transform(x_test)))
        y_true.append(table.y[fold.test])
    protocol = (
        cfg.protocol + PROTOCOL_SUFFIX[speaker_norm] + ("+corpus_norm" if corpus_norm else "")
    )
    yt, yp, idx = np.concatenate(y_true), np.concatenate(y_pred), np.concatenate(tested)
    per_corpus = (
        scores_by_group(yt, yp, table.corpora[idx], table.labels)
        if len(np.unique(table.corpora)) > 1
        else None
    )
    out = {
        "per_corpus": per_corpus,
        "corpus": cfg.corpus,
        "protocol": protocol,
        "model": classifier,
        "classifier": classifier,
        "features": table.choice.to_dict(),
        "input_dim": int(cfg.select_features or x.shape[1]),
        "select_features": cfg.select_features,
        "n_folds": len(folds),
        "seed": cfg.seed,
        "git_commit": git_commit(),
        "float": scores(yt, yp, table.labels),
    }
    if with_probs:
        out["tested"], out["probs"] = idx, np.concatenate(probs)
    return out
