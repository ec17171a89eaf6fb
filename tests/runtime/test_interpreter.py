"""The TFLite runtime layer: runtime choice, edgeser's errors for every runtime failure, what
XNNPACK really delegated, the num_threads bound, and the TensorFlow / openSMILE trap.

Runs on whichever runtime "auto" finds (the main CI leg: ai-edge-litert; the old-runtime leg,
.ci/runtime-leg.sh: tflite-runtime 2.14 on numpy 1.26).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import types

import numpy as np
import pytest

from edgeser import interpreter
from edgeser.bundle import ModelBundle
from edgeser.errors import BundleError, EdgeserError, MissingDependencyError
from edgeser.interpreter import (
    MAX_NUM_THREADS,
    IncompatibleRuntimeError,
    ModelRunner,
    delegated_nodes,
)
from edgeser.pipelines.opensmile import check_tensorflow_free
from edgeser.recognizer import Recognizer

from .support import LABELS, RATE, subprocess_env


def model_bytes(bundle_dir, name: str) -> bytes:
    return ModelBundle.load(bundle_dir / f"{name}.edgeser").model


def run_child(code: str, *args: str) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---- num_threads ------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [0, -1, MAX_NUM_THREADS + 1, 40000, True, 2.0, "2", None])
def test_num_threads_is_bounded(bundle_dir, bad):
    """Tens of thousands of threads crashed TFLite at interpreter teardown (issue 14)."""
    with pytest.raises(
        ValueError, match=f"num_threads must be an integer from 1 to {MAX_NUM_THREADS}"
    ):
        Recognizer(bundle_dir / "tiny_int8.edgeser", num_threads=bad)


def test_the_largest_num_threads_runs_and_tears_down(bundle_dir, speech):
    r = Recognizer(bundle_dir / "tiny_int8.edgeser", num_threads=np.int64(MAX_NUM_THREADS))
    assert r.num_threads == MAX_NUM_THREADS and type(r.num_threads) is int
    assert r.predict(speech, sample_rate=RATE).label in LABELS
    del r


# ---- what XNNPACK delegated -------------------------------------------------------------------
def test_delegated_nodes_finds_each_partition():
    """Op details as tflite-runtime 2.14 lists them for tiny_float: XNNPACK took CONV_2D +
    RESHAPE and FULLY_CONNECTED + SOFTMAX, left EXPAND_DIMS and MEAN to the builtin kernels."""
    ops = [
        ("EXPAND_DIMS", [0, 4], [7]),
        ("CONV_2D", [7, 2, 6], [8]),
        ("RESHAPE", [8, 1], [9]),
        ("MEAN", [9, 5], [10]),
        ("FULLY_CONNECTED", [10, 3, -1], [11]),
        ("SOFTMAX", [11], [12]),
        ("DELEGATE", [1, 2, 6, 7], [9]),
        ("DELEGATE", [3, 10], [12]),
    ]
    details = [
        {"index": i, "op_name": name, "inputs": np.array(ins), "outputs": np.array(outs)}
        for i, (name, ins, outs) in enumerate(ops)
    ]
    assert delegated_nodes(details) == {
        1: "CONV_2D",
        2: "RESHAPE",
        4: "FULLY_CONNECTED",
        5: "SOFTMAX",
    }
    assert delegated_nodes(details[:6]) == {}


@pytest.mark.parametrize("name", ["tiny_float", "tiny_int8"])
def test_xnnpack_reports_what_was_really_delegated(bundle_dir, name):
    model = model_bytes(bundle_dir, name)
    on, off = ModelRunner(model), ModelRunner(model, xnnpack=False)
    has_delegate = any(d["op_name"] == "DELEGATE" for d in on._ops_details())
    assert on.xnnpack == has_delegate == bool(on.delegated_ops)
    assert set(on.delegated_ops) <= set(on.op_names())
    assert off.xnnpack is False and off.delegated_ops == ()
    assert not any(d["op_name"] == "DELEGATE" for d in off._ops_details())
    assert off.op_names() == on.op_names()
    if on.runtime == "tflite_runtime" and name == "tiny_int8":
        import tflite_runtime

        if tflite_runtime.__version__.startswith("2.14."):
            assert on.xnnpack is False  # 2.14's XNNPACK takes no node of an int8 graph
    if on.runtime == "litert" and name == "tiny_float":
        assert on.xnnpack and "CONV_2D" in on.delegated_ops


# ---- runtime choice and its errors ------------------------------------------------------------
def test_auto_never_imports_tensorflow_and_names_the_choices(bundle_dir):
    code = """
import json, sys
sys.modules["ai_edge_litert"] = sys.modules["ai_edge_litert.interpreter"] = None
sys.modules["tflite_runtime"] = sys.modules["tflite_runtime.interpreter"] = None
from edgeser import interpreter
from edgeser.errors import MissingDependencyError
from edgeser.recognizer import Recognizer
found = interpreter.available_runtimes()
try:
    Recognizer(sys.argv[1])
    message = None
except MissingDependencyError as exc:
    message = str(exc)
print(json.dumps({"message": message, "found": found, "tf": "tensorflow" in sys.modules}))
"""
    out = run_child(code, str(bundle_dir / "tiny_int8.edgeser"))
    assert out["tf"] is False, "runtime='auto' imported TensorFlow"
    assert "litert" not in out["found"] and "tflite_runtime" not in out["found"]
    message = out["message"]
    assert message is not None and message.startswith("no TFLite runtime is usable")
    for part in ("ai-edge-litert) is not installed", "tflite-runtime) is not installed"):
        assert part in message
    for choice in ("pip install edgeser[litert]", "pip install edgeser[tflite]", "'tensorflow'"):
        assert choice in message


def test_available_runtimes_imports_none_of_them():
    code = """
import json, sys
from edgeser.interpreter import available_runtimes
found = available_runtimes()
heavy = [m for m in ("tensorflow", "ai_edge_litert", "tflite_runtime") if m in sys.modules]
print(json.dumps({"found": found, "imported": heavy}))
"""
    out = run_child(code)
    assert out["imported"] == []
    assert interpreter.resolve_runtime("auto")[0] in out["found"]


def test_a_runtime_that_fails_to_import_is_named_with_its_cause(monkeypatch):
    fake = types.ModuleType("ai_edge_litert.interpreter")  # installed, but no Interpreter
    monkeypatch.setitem(sys.modules, "ai_edge_litert", types.ModuleType("ai_edge_litert"))
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", fake)
    with pytest.raises(MissingDependencyError, match="installed but cannot be imported") as info:
        interpreter.resolve_runtime("litert")
    assert isinstance(info.value.__cause__, AttributeError)
    assert "pip install edgeser[litert]" in str(info.value)
    monkeypatch.setitem(sys.modules, "tflite_runtime", None)
    monkeypatch.setitem(sys.modules, "tflite_runtime.interpreter", None)
    with pytest.raises(MissingDependencyError, match="no TFLite runtime is usable") as info:
        interpreter.resolve_runtime("auto")
    assert "(ai-edge-litert) is installed but cannot be imported (AttributeError" in str(info.value)
    assert "(tflite-runtime) is not installed" in str(info.value)


def fake_runtime(monkeypatch, name: str, cls) -> None:
    monkeypatch.setattr(interpreter, "resolve_runtime", lambda runtime: (name, cls, None))


@pytest.mark.parametrize("numpy_version", ["2.0.0", "1.26.4"])
def test_a_runtime_broken_by_numpy_is_an_edgeser_error(bundle_dir, monkeypatch, numpy_version):
    """tflite-runtime 2.14 under numpy 2 raises a bare SystemError from its constructor
    ('CreateWrapperFromBuffer returned a result with an exception set')."""

    class NumpyOneBuild:
        def __init__(self, **kwargs):
            try:
                raise ImportError("numpy.core.multiarray failed to import")
            except ImportError as exc:
                raise SystemError(
                    "<built-in method CreateWrapperFromBuffer> returned a result with an "
                    "exception set"
                ) from exc

    fake_runtime(monkeypatch, "tflite_runtime", NumpyOneBuild)
    monkeypatch.setattr(np, "__version__", numpy_version)
    with pytest.raises(MissingDependencyError) as info:
        ModelRunner(model_bytes(bundle_dir, "tiny_int8"), source="m.edgeser")
    message = str(info.value)
    assert message.startswith("m.edgeser: the 'tflite_runtime' TFLite runtime (tflite-runtime)")
    assert "SystemError" in message and "ImportError: numpy.core.multiarray" in message
    assert isinstance(info.value.__cause__, SystemError)
    if numpy_version.startswith("2"):
        assert "built for numpy 1.x" in message and "pip install 'numpy<2'" in message
    else:
        assert "numpy<2" not in message and "pip install edgeser[litert]" in message


def test_a_model_the_runtime_refuses_is_a_bundle_error_with_its_cause(bundle_dir, monkeypatch):
    with pytest.raises(BundleError, match="x.edgeser: the TFLite model cannot be loaded") as info:
        ModelRunner(b"\x00" * 64, source="x.edgeser")
    assert info.value.__cause__ is not None

    class Refusing:
        def __init__(self, **kwargs):
            raise ValueError("Model provided has model identifier '\\0\\0\\0\\0', should be 'TFL3'")

    fake_runtime(monkeypatch, "litert", Refusing)
    with pytest.raises(BundleError, match="should be 'TFL3'") as info:
        ModelRunner(b"junk", source="x.edgeser")
    assert isinstance(info.value.__cause__, ValueError)


def test_a_failing_invoke_is_a_bundle_error_with_its_cause(bundle_dir, monkeypatch):
    name, real_cls, resolver = interpreter.resolve_runtime("auto")

    class FailingInvoke(real_cls):
        def invoke(self):
            raise RuntimeError("Node number 3 (CONV_2D) failed to invoke (simulated)")

    monkeypatch.setattr(
        interpreter, "resolve_runtime", lambda runtime: (name, FailingInvoke, resolver)
    )
    runner = ModelRunner(model_bytes(bundle_dir, "tiny_float"), source="f.edgeser")
    x = np.zeros((2, *runner.input.shape[1:]), np.float32)
    with pytest.raises(BundleError, match="f.edgeser: .* failed to run the model") as info:
        runner.run(x)
    assert isinstance(info.value.__cause__, RuntimeError)


# ---- TensorFlow and openSMILE -----------------------------------------------------------------
def test_tensorflow_runtime_is_refused_for_opensmile_models():
    with pytest.raises(IncompatibleRuntimeError, match="runtime='auto'") as info:
        check_tensorflow_free("m.edgeser", "smile", "tensorflow")
    assert isinstance(info.value, EdgeserError) and isinstance(info.value, ValueError)
    assert "m.edgeser: model 'smile' reads openSMILE features" in str(info.value)
    check_tensorflow_free("m.edgeser", "smile", "litert")


REFUSAL = """
import json, sys
if sys.argv[2] == "import-tensorflow":
    import tensorflow
from edgeser.interpreter import IncompatibleRuntimeError
from edgeser.recognizer import Recognizer
try:
    Recognizer(sys.argv[1], runtime=sys.argv[3])
    message = None
except IncompatibleRuntimeError as exc:
    message = str(exc)
print(json.dumps({"message": message, "tf": "tensorflow" in sys.modules}))
"""


def test_recognizer_refuses_tensorflow_with_an_opensmile_model_before_loading_it(bundle_dir):
    if not (bundle_dir / "tiny_smile.edgeser").exists():
        pytest.skip("opensmile is not installed, so no openSMILE test bundle was built")
    out = run_child(REFUSAL, str(bundle_dir / "tiny_smile.edgeser"), "-", "tensorflow")
    assert out["tf"] is False
    assert out["message"] and "use runtime='auto'" in out["message"]


def test_opensmile_after_tensorflow_is_an_error_not_an_abort(bundle_dir):
    """openSMILE aborts the process (malloc(): invalid size) when TensorFlow was imported first;
    the pipeline refuses instead."""
    if not (bundle_dir / "tiny_smile.edgeser").exists():
        pytest.skip("opensmile is not installed, so no openSMILE test bundle was built")
    if importlib.util.find_spec("tensorflow") is None:
        pytest.skip("tensorflow is not installed")
    path = str(bundle_dir / "tiny_smile.edgeser")
    out = run_child(REFUSAL, path, "import-tensorflow", "auto")
    assert out["message"] and "TensorFlow was imported before it" in out["message"]
