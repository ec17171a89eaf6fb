"""Speaker calibration (`edgeser.calibration`): the running statistics a device keeps of one
speaker's functional vectors, blended with the training population's."""

import numpy as np
import pytest

from edgeser.calibration import (
    CalibrationPrior,
    SpeakerCalibration,
    normalise_groups,
    replay_groups,
)
from edgeser.errors import BundleError
from edgeser.feature_configs import FunctionalFeatures, features_from_dict
from edgeser.frontend.descriptor_config import DescriptorConfig
from edgeser.frontend.functionals import FEATURE_SETS, SET_V1


def _prior(dim=3, count=4.0):
    return CalibrationPrior(tuple(float(i) for i in range(dim)), (1.0,) * dim, count)


def test_no_clip_means_the_population():
    cal = SpeakerCalibration(_prior())
    np.testing.assert_allclose(cal.normalise([1.0, 1.0, 1.0]), [1.0, 0.0, -1.0])


def test_blend_shrinks_the_speaker_statistics_towards_the_prior():
    """With n clips and a prior worth k, the mean and the variance (the speaker's about its
    own mean) are each weighted n : k against the prior's."""
    rng = np.random.default_rng(0)
    prior = CalibrationPrior((0.0, 10.0), (1.0, 2.0), count=3.0)
    clips = rng.normal([5.0, -4.0], [0.5, 3.0], size=(7, 2))
    cal = SpeakerCalibration(prior)
    for c in clips:
        cal.update(c)
    n, k = 7, 3.0
    mean = (clips.sum(0) + k * np.array(prior.mean)) / (n + k)
    var = (n * clips.var(0) + k * np.array(prior.std) ** 2) / (n + k)
    m, s = cal.statistics()
    np.testing.assert_allclose(m, mean)
    np.testing.assert_allclose(s, np.sqrt(var))


def test_many_clips_converge_to_the_speaker_and_remove_their_offset():
    rng = np.random.default_rng(1)
    clips = rng.normal([100.0, -50.0, 3.0], [5.0, 1.0, 0.1], size=(5000, 3))
    cal = SpeakerCalibration(_prior())
    for c in clips:
        cal.update(c)
    m, s = cal.statistics()
    np.testing.assert_allclose(m, clips.mean(0), rtol=1e-2)
    np.testing.assert_allclose(s, clips.std(0), rtol=5e-2)  # k/(n+k) of the prior left
    z = cal.normalise(clips)
    assert np.all(np.abs(z.mean(0)) < 0.05) and np.all(np.abs(z.std(0) - 1) < 0.05)


def test_bad_vectors():
    cal = SpeakerCalibration(_prior())
    with pytest.raises(ValueError, match="expected 3 values"):
        cal.update([1.0, 2.0])
    cal.update([np.nan, 1.0, 2.0])  # carries no statistics: ignored
    assert cal.count == 0


def test_replay_scores_each_clip_with_the_clips_so_far():
    """A device's order: clip i is normalised after the i clips before it and itself."""
    rng = np.random.default_rng(2)
    x = rng.normal(size=(6, 3))
    groups = np.array(["a", "a", "a", "b", "b", "b"])
    prior = _prior()
    out = replay_groups(x, groups, prior, seed=5)
    order = np.random.default_rng(5).permutation(np.flatnonzero(groups == "a"))
    cal = SpeakerCalibration(prior)
    for i in order:
        cal.update(x[i])
        np.testing.assert_allclose(out[i], cal.normalise(x[i]))
    full = normalise_groups(x, groups)
    np.testing.assert_allclose(full[:3].mean(0), 0.0, atol=1e-12)
    np.testing.assert_allclose(full[3:].std(0), 1.0)


def test_prior_validation_and_bundle_round_trip():
    with pytest.raises(BundleError, match="positive"):
        CalibrationPrior((0.0,), (0.0,))
    with pytest.raises(BundleError, match="finite"):
        CalibrationPrior((float("nan"),), (1.0,))
    with pytest.raises(BundleError, match="count"):
        CalibrationPrior((0.0,), (1.0,), count=0)
    with pytest.raises(BundleError, match="one mean and one std"):
        CalibrationPrior((0.0, 1.0), (1.0,))
    dim = len(FEATURE_SETS[SET_V1])
    with pytest.raises(BundleError, match=f"{dim}"):
        FunctionalFeatures(SET_V1, speaker_calibration=_prior(3))
    old = DescriptorConfig.pre_format_10()
    f = FunctionalFeatures(SET_V1, old, speaker_calibration=_prior(dim))
    assert f.min_format_version == 8 and "speaker-calibrated" in f.describe()
    assert features_from_dict(f.to_dict()) == f
    assert FunctionalFeatures(SET_V1, old).min_format_version == 5
    assert FunctionalFeatures(SET_V1, speaker_calibration=_prior(dim)).min_format_version == 10
    d = f.to_dict()
    d["speaker_calibration"]["extra"] = 1
    with pytest.raises(BundleError, match="exactly mean, std and count"):
        features_from_dict(d)
