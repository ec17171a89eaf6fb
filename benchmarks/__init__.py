"""edgeser's benchmarks, each runnable as `python -m benchmarks.<name>`.

frontend: feature extraction speed of edgeser's backends against librosa, python_speech_features,
kaldi-native-fbank and the bare FFT. latency / memory: the whole recognition pipeline.
Results go to benchmarks/results/. Nothing heavy is imported here, so a benchmark can pin
thread counts before NumPy loads.
"""
