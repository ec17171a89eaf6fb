"""How a model's outputs become a `Prediction`: what follows the graph, after window averaging.

Most bundles have no head: the graph ends in a softmax over the bundle's labels and the averaged
outputs are the scores. A multi-level cascade (`CascadeHead`, bundle format 7) is one graph with
two stages side by side: its outputs are the coarse model's probabilities (every class, with the
high-similarity set S merged into one class) followed by the fine model's (S's classes only).
The runtime averages those outputs over the speech windows exactly as it does a softmax, and
only then applies the cascade, which is how `train multilevel` scores it: the coarse model
decides; if it picks the merged class, the fine model chooses within S.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from .errors import BundleError
from .prediction import Prediction


@dataclass(frozen=True)
class CascadeHead:
    """The coarse -> fine routing of a multi-level model over the final `labels`.

    scores: p(c) = coarse(c) for c outside S, coarse(merged) * fine(c) for c in S (they sum to
    one); label: the hard rule (coarse argmax, then fine argmax inside S), which can differ
    from the argmax of the scores when the merged class wins with a small margin.
    """

    coarse_labels: tuple[str, ...]
    fine_labels: tuple[str, ...]  # S, in the order of the fine model's outputs
    merged_label: str

    type: ClassVar[str] = "cascade"

    def __post_init__(self) -> None:
        c, f = self.coarse_labels, self.fine_labels
        if not all(isinstance(x, str) and x for x in (*c, *f, self.merged_label)):
            raise BundleError("cascade head: labels must be non-empty strings")
        if len(set(c)) != len(c) or len(set(f)) != len(f):
            raise BundleError("cascade head: duplicate labels")
        if len(f) < 2:
            raise BundleError("cascade head: the fine stage needs at least two classes")
        if self.merged_label not in c:
            raise BundleError(f"cascade head: merged class {self.merged_label!r} not in coarse")
        if len(c) < 2:
            raise BundleError("cascade head: the coarse stage needs at least two classes")
        if set(f) & set(c):
            raise BundleError("cascade head: a class of S is also a coarse class")

    @property
    def output_dim(self) -> int:
        return len(self.coarse_labels) + len(self.fine_labels)

    @property
    def output_groups(self) -> tuple[int, ...]:
        """Sizes of the output blocks that are each a probability distribution."""
        return (len(self.coarse_labels), len(self.fine_labels))

    def final_labels(self) -> tuple[str, ...]:
        """The label set the cascade answers in: the coarse classes with S in place of the
        merged one."""
        out: list[str] = []
        for c in self.coarse_labels:
            out.extend(self.fine_labels if c == self.merged_label else (c,))
        return tuple(out)

    def check_labels(self, labels: Sequence[str]) -> None:
        if set(labels) != set(self.final_labels()) or len(labels) != len(self.final_labels()):
            raise BundleError(
                f"cascade head answers {list(self.final_labels())}, the bundle names {list(labels)}"
            )

    def split(self, outputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(coarse [..., C], fine [..., F]) of model outputs [..., C + F]."""
        outputs = np.asarray(outputs, np.float64)
        if outputs.shape[-1] != self.output_dim:
            raise ValueError(f"cascade outputs need {self.output_dim} values")
        n = len(self.coarse_labels)
        return outputs[..., :n], outputs[..., n:]

    def scores(self, labels: Sequence[str], outputs: np.ndarray) -> np.ndarray:
        """Product scores [..., len(labels)] of (averaged) outputs."""
        coarse, fine = self.split(outputs)
        out = np.zeros((*coarse.shape[:-1], len(labels)))
        merged = self.coarse_labels.index(self.merged_label)
        for j, c in enumerate(self.coarse_labels):
            if j != merged:
                out[..., labels.index(c)] = coarse[..., j]
        for j, c in enumerate(self.fine_labels):
            out[..., labels.index(c)] = coarse[..., merged] * fine[..., j]
        return out

    def label(self, outputs: np.ndarray) -> str:
        """The hard rule on one (averaged) output vector."""
        coarse, fine = self.split(outputs)
        top = self.coarse_labels[int(np.argmax(coarse))]
        return self.fine_labels[int(np.argmax(fine))] if top == self.merged_label else top

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "coarse_labels": list(self.coarse_labels),
            "fine_labels": list(self.fine_labels),
            "merged_label": self.merged_label,
        }

    def describe(self) -> str:
        return (
            f"cascade: coarse over {list(self.coarse_labels)}; if {self.merged_label!r}, "
            f"fine over S = {list(self.fine_labels)}"
        )


OutputHead = CascadeHead  # the one head so far; None means "softmax over the labels"
HEADS: dict[str, type[CascadeHead]] = {CascadeHead.type: CascadeHead}


def head_from_dict(d: Mapping[str, Any] | None) -> OutputHead | None:
    """The head a bundle header describes (None: no head)."""
    if d is None:
        return None
    if not isinstance(d, Mapping) or d.get("type") not in HEADS:
        kinds = ", ".join(sorted(HEADS))
        raise BundleError(f"unknown output head {d!r} (known: {kinds})")
    try:
        return HEADS[d["type"]](
            coarse_labels=tuple(d["coarse_labels"]),
            fine_labels=tuple(d["fine_labels"]),
            merged_label=d["merged_label"],
        )
    except (KeyError, TypeError) as exc:
        raise BundleError(f"bad output head ({type(exc).__name__}: {exc})") from None


def output_dim(labels: Sequence[str], head: OutputHead | None) -> int:
    """How many values the graph returns per window."""
    return len(labels) if head is None else head.output_dim


def make_prediction(
    labels: Sequence[str], head: OutputHead | None, outputs: Iterable[float], **kw: Any
) -> Prediction:
    """The Prediction of (window-averaged) model outputs."""
    if head is None:
        return Prediction.from_scores(labels, outputs, **kw)
    labels = list(labels)
    out = np.fromiter(outputs, float)
    return Prediction.from_scores(labels, head.scores(labels, out), label=head.label(out), **kw)
