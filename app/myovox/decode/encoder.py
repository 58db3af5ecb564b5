"""The onnxruntime adapter: the only module that imports onnxruntime.

One thread, one session per model; inputs are checked against the model card before they reach
the graph, and a file onnxruntime cannot load is reported as the corrupt model it is.
"""
from __future__ import annotations

import numpy as np

from .card import ModelCard, ModelCardError


class OnnxEncoder:
    def __init__(self, card: ModelCard):
        import onnxruntime as ort

        self.card = card
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(str(card.onnx_path), opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types for unreadable graphs
            raise ModelCardError(f"{card.onnx_path}: onnxruntime cannot load this model ({exc})") from exc
        inputs = {i.name: i.shape for i in self.session.get_inputs()}
        outputs = {o.name: o.shape for o in self.session.get_outputs()}
        expected_in = {"window": [card.channels, card.window_samples], "features": [int(card.feature_mean.shape[0])]}
        for name, tail in expected_in.items():
            if name not in inputs or list(inputs[name][1:]) != tail:
                raise ModelCardError(
                    f"{card.onnx_path}: input {name!r} is {inputs.get(name)}, the card says [n, {', '.join(map(str, tail))}]"
                )
        if "embedding" not in outputs or outputs["embedding"][-1] != card.embedding_dim:
            raise ModelCardError(f"{card.onnx_path}: output 'embedding' is {outputs.get('embedding')}, the card says {card.embedding_dim}-d")

    def run(self, raw_windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Raw windows (n x samples x channels) -> (embeddings n x d, pre-training class scores n x k)."""
        return self.run_prepared(self.card.prepare(raw_windows))

    def run_prepared(self, prepared: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.run_inputs(self.card.inputs_from_prepared(prepared))

    def run_inputs(self, inputs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Already normalised ONNX inputs (`ModelCard.inputs_from_prepared`) -> (embeddings, scores)."""
        emb, scores = self.session.run(["embedding", "scores"], inputs)
        return emb, scores
