"""Where training runs: all visible GPUs (MirroredStrategy + mixed precision) or the CPU.

Must run before TensorFlow initialises its devices (first op), hence a function the recipe
calls once at start-up. `cpu_replicas > 1` splits the CPU into logical devices and mirrors over
them: the multi-device code path, testable on a machine without GPUs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class DeviceSetup:
    strategy: Any
    mixed_precision: bool
    description: str


def setup_device(device: str = "auto", cpu_replicas: int = 1) -> DeviceSetup:
    import keras
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")  # retracing notices from per-epoch validation
    gpus = tf.config.list_physical_devices("GPU")
    if device == "gpu" and not gpus:
        raise RuntimeError("--device gpu: no GPU is visible to TensorFlow")
    if device not in ("auto", "cpu", "gpu"):
        raise ValueError(f"unknown device {device!r} (auto | cpu | gpu)")
    if gpus and device in ("auto", "gpu"):
        for g in gpus:
            tf.config.experimental.set_memory_growth(g, True)
        keras.mixed_precision.set_global_policy("mixed_float16")
        strategy = tf.distribute.MirroredStrategy()
        return DeviceSetup(strategy, True, f"{len(gpus)} GPU(s), MirroredStrategy, mixed_float16")
    if gpus:
        tf.config.set_visible_devices([], "GPU")
    keras.mixed_precision.set_global_policy("float32")
    if cpu_replicas > 1:
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(cpu_replicas)]
        )
        names = [d.name for d in tf.config.list_logical_devices("CPU")]
        strategy = tf.distribute.MirroredStrategy(
            devices=names, cross_device_ops=tf.distribute.ReductionToOneDevice()
        )
        return DeviceSetup(
            strategy, False, f"CPU split into {len(names)} logical devices, MirroredStrategy"
        )
    return DeviceSetup(tf.distribute.get_strategy(), False, "CPU")
