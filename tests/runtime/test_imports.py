"""The edge budget: predict imports numpy, soundfile/soxr, the front end and a TFLite runtime only.

Checked in fresh subprocesses, since this test session may itself have imported anything.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

from .support import RATE, encode, speechlike, subprocess_env

HEAVY = ("tensorflow", "keras", "librosa", "numba", "scipy", "opensmile", "pandas", "torch")

PROBE = """
import json, sys
import edgeser
cheap = sorted(m for m in ("numpy", "soundfile", "soxr", "ai_edge_litert") if m in sys.modules)
p = edgeser.predict(sys.argv[1], model=sys.argv[2])
from edgeser.cli import main
code = main(["predict", "--json", sys.argv[1], "--model", sys.argv[2]])
from edgeser import frontend
heavy = sorted({m.split(".")[0] for m in sys.modules} & set(json.loads(sys.argv[3])))
print(json.dumps({"cheap": cheap, "label": p.label, "code": code, "heavy": heavy,
                  "backend": frontend.backend()}))
"""


def probe(tmp_path, bundle_dir, **env) -> dict:
    clip = tmp_path / "clip.wav"
    clip.write_bytes(encode(speechlike(1.5, seed=3), RATE))
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            PROBE,
            str(clip),
            str(bundle_dir / "tiny_int8.edgeser"),
            json.dumps(HEAVY),
        ],
        capture_output=True,
        text=True,
        env=subprocess_env(**env),
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_import_edgeser_is_cheap():
    code = (
        "import sys, edgeser; print(sorted(m for m in ('numpy', 'soundfile') if m in sys.modules))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_predict_path_stays_light_with_the_numpy_front_end(tmp_path, bundle_dir):
    result = probe(tmp_path, bundle_dir, EDGESER_BACKEND="numpy")
    assert result["backend"] == "numpy" and result["code"] == 0
    assert result["cheap"] == [] and result["label"] is not None
    assert result["heavy"] == [], f"the predict path imported {result['heavy']}"


def test_predict_path_stays_light_with_the_default_front_end(tmp_path, bundle_dir, cpp_required):
    if importlib.util.find_spec("edgeser._frontend") is None:
        if cpp_required:
            pytest.fail("EDGESER_REQUIRE_CPP=1 but the C++ extension edgeser._frontend is missing")
        pytest.skip(
            "the C++ front end is not built: the fallback (numba) is heavy by design; "
            "set EDGESER_REQUIRE_CPP=1 after building to enforce this check"
        )
    result = probe(tmp_path, bundle_dir)
    assert result["backend"] == "cpp"
    assert result["heavy"] == [], f"the predict path imported {result['heavy']}"
