import pytest

from train.cli import build_parser
from train.config import TrainConfig


def test_config_validation_names_the_field():
    with pytest.raises(ValueError, match="TrainConfig.protocol"):
        TrainConfig(corpus="emodb", data=".", protocol="holdout")
    with pytest.raises(ValueError, match="TrainConfig.epochs"):
        TrainConfig(corpus="emodb", data=".", epochs=0)
    with pytest.raises(ValueError, match="unknown model"):
        TrainConfig(corpus="emodb", data=".", model="transformer")
    with pytest.raises(ValueError, match="TrainConfig.selection"):
        TrainConfig(corpus="emodb", data=".", selection="best_test")
    with pytest.raises(ValueError, match="TrainConfig.members"):
        TrainConfig(corpus="emodb", data=".", members=0)
    with pytest.raises(ValueError, match="TrainConfig.select_features"):
        TrainConfig(corpus="emodb", data=".", model="resse_cnn1d", select_features=-1)


def test_config_round_trip_and_defaults():
    c = TrainConfig(corpus="emodb", data="x", model="cnn_lstm_1d", hparams={"lstm_units": 8})
    assert TrainConfig.from_dict(c.to_dict()) == c
    assert c.feature_name == "mfcc" and c.frontend_config().deltas == 2
    assert TrainConfig(corpus="emodb", data="x", model="resse_cnn1d").feature_name == "egemaps"
    # window seconds -> frames follow the front-end frame shift (15 ms for dycnn_mfcc39)
    assert c.frames(1.5) == 100


@pytest.mark.parametrize(
    "command", ["extract", "fit", "evaluate", "export", "run", "baseline", "fuse"]
)
def test_every_option_is_documented(command):
    parser = build_parser()
    sub = parser._subparsers._group_actions[0].choices[command]
    for action in sub._actions:
        if action.option_strings and action.dest != "help":
            assert action.help, f"{command} {action.option_strings} has no help text"
