"""``python -m train``: the training command line (see `train.cli`)."""

from train.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
