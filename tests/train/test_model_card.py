"""What a model card says about its protocol and its augmentation."""

from train import model_card


def test_protocol_text_names_the_test_side_statistics():
    plain = model_card._protocol_text("loco")
    assert plain.startswith("Leave one corpus out") and "calibration" not in plain
    cal = model_card._protocol_text("loco+running_speaker_norm")
    assert cal.startswith(plain) and "one by one" in cal and "never its labels" in cal
    assert "own unlabelled statistics" in model_card._protocol_text("loco+corpus_norm")
    assert model_card._protocol_text("unknown") == ""


def test_functional_models_are_not_said_to_get_vtlp_or_specaugment():
    training = {"corpus": "emodb", "augment": {"copies": 2}}
    mel = " ".join(model_card._data_lines(training))
    functional = " ".join(model_card._data_lines(training, mel_frames=False))
    assert "VTLP" in mel and "SpecAugment" in mel
    assert "VTLP" not in functional and "SpecAugment" not in functional
    assert "2 copies" in functional


def test_kept_blocks_survive_and_an_unclosed_one_is_refused():
    block = f"{model_card.KEEP_START}\n## How it compares\n\nby hand\n{model_card.KEEP_END}"
    text = f"# card\n\n{block}\n\n## Data and limits\n\n- x\n{block}\n"
    assert model_card.kept_blocks(text) == [block, block]
    assert model_card.kept_blocks("# card\n") == []
    import pytest

    with pytest.raises(ValueError, match="closing"):
        model_card.kept_blocks(f"# card\n{model_card.KEEP_START}\nlost?\n")
