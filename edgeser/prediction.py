"""What a recognition returns: one immutable `Prediction` per clip, window or stream step."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

NO_SPEECH = "no speech detected"


@dataclass(frozen=True)
class Prediction:
    """The emotion of a stretch of audio.

    `label` is None (and `scores` empty) when the voice gate found no speech: edgeser does not
    guess an emotion for silence; `reason` then says why. `scores` are probabilities averaged
    over the speech windows; `timings` holds seconds per stage (decode, resample, features,
    vad, inference); `start_s`/`end_s` locate the audio it covers.
    """

    label: str | None
    confidence: float
    scores: Mapping[str, float]
    is_speech: bool = True
    reason: str = ""
    start_s: float = 0.0
    end_s: float = 0.0
    duration_s: float = 0.0
    windows: int = 0  # feature windows scored (0 for openSMILE models and no-speech results)
    model: str = ""
    source: str = ""
    timings: Mapping[str, float] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    @classmethod
    def from_scores(
        cls,
        labels: Sequence[str],
        probs: Iterable[float],
        label: str | None = None,
        **kw: Any,
    ) -> Prediction:
        """The prediction of per-label scores: the best one, or `label` when a rule other than
        the argmax decides (a cascade's routing, `edgeser.heads`)."""
        scores = {str(lab): float(p) for lab, p in zip(labels, probs)}
        best = max(scores, key=scores.__getitem__) if label is None else label
        if best not in scores:
            raise ValueError(f"label {best!r} is not one of {list(scores)}")
        return cls(label=best, confidence=scores[best], scores=scores, **kw)

    @classmethod
    def no_speech(cls, reason: str = NO_SPEECH, **kw: Any) -> Prediction:
        return cls(label=None, confidence=0.0, scores={}, is_speech=False, reason=reason, **kw)

    def top(self, k: int = 3) -> list[tuple[str, float]]:
        """The `k` most likely labels with their scores, best first."""
        return sorted(self.scores.items(), key=lambda kv: -kv[1])[:k]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return {
            "source": self.source,
            "model": self.model,
            "label": self.label,
            "confidence": round(self.confidence, 6),
            "scores": {k: round(v, 6) for k, v in self.scores.items()},
            "is_speech": self.is_speech,
            "reason": self.reason,
            "start_s": round(self.start_s, 4),
            "end_s": round(self.end_s, 4),
            "duration_s": round(self.duration_s, 4),
            "windows": self.windows,
            "timings": {k: round(v, 6) for k, v in self.timings.items()},
            "warnings": list(self.warnings),
        }
