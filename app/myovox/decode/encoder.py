"""The onnxruntime adapter: the only module that imports onnxruntime.

One thread, one session per model; inputs are checked against the model card before they reach
the graph, and a file onnxruntime cannot load is reported as the corrupt model it is.

For a card with `fine_tune`, the graph is also read with `onnx` (in memory; the file on disk and its
sha256 stay as shipped): the frozen convolutions' pooled output becomes an extra graph output, and
the top layers' weights are handed to `decode.finetune` as the starting point of a calibration.
"""
from __future__ import annotations

import numpy as np

from .card import ModelCard, ModelCardError
from .finetune import ONNX_NAMES, TopWeights


class OnnxEncoder:
    def __init__(self, card: ModelCard):
        import onnxruntime as ort

        self.card = card
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.log_severity_level = 3
        self.top: TopWeights | None = None
        self._conv_outputs: list[str] = []
        source: str | bytes = str(card.onnx_path)
        if card.fine_tune is not None:
            source = self._split_top(card)
        try:
            self.session = ort.InferenceSession(source, opts, providers=["CPUExecutionProvider"])
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
        if self.top is not None:
            self._check_top()

    def _check_top(self) -> None:
        """The top as read must reproduce the graph's own embedding, or a refit would start from the wrong place."""
        rng = np.random.default_rng(0)
        probe = {"window": rng.normal(size=(4, self.card.channels, self.card.window_samples)).astype(np.float32),
                 "features": rng.normal(size=(4, int(self.card.feature_mean.shape[0]))).astype(np.float32)}
        emb, conv = self.run_with_conv(probe)
        if conv.shape[1] != self.top.conv_dim or not np.allclose(self.top.embed(conv, probe["features"]), emb, rtol=1e-3, atol=1e-3):
            raise ModelCardError(f"{self.card.onnx_path}: the layers the card's fine_tune would refit do not reproduce "
                                 "the graph's embedding; this graph is not a myovox cnn/tcn export")

    def _split_top(self, card: ModelCard) -> bytes:
        """The graph with the embedding layer's frozen conv inputs as extra outputs; keeps the top's weights."""
        try:
            import onnx
            from onnx import numpy_helper
        except ImportError as exc:
            raise ModelCardError(f"{card.path}: the card asks for fine_tune, which needs the 'onnx' package "
                                 "(a myovox dependency: reinstall with 'make setup')") from exc
        try:
            model = onnx.load(str(card.onnx_path))
        except Exception as exc:  # protobuf decode errors have no common public type
            raise ModelCardError(f"{card.onnx_path}: cannot load this model, it is not a readable ONNX graph ({exc})") from exc
        graph = model.graph
        producers = {o: n for n in graph.node for o in n.output}
        weights = {i.name: numpy_helper.to_array(i) for i in graph.initializer if i.name in ONNX_NAMES.values()}
        embed = producers.get("embedding")
        concat = producers.get(embed.input[0]) if embed is not None and embed.op_type == "Gemm" else None
        if concat is None or concat.op_type != "Concat" or len(weights) != len(ONNX_NAMES):
            raise ModelCardError(f"{card.onnx_path}: the card asks for fine_tune, but this graph has no "
                                 "feature branch + embedding layer to refit (a myovox cnn/tcn export)")
        try:
            self.top = TopWeights(**{k: weights[v] for k, v in ONNX_NAMES.items()})
        except ValueError as exc:
            raise ModelCardError(f"{card.onnx_path}: {exc}") from exc
        self._conv_outputs = list(concat.input[:-1])
        for name in self._conv_outputs:
            graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
        return model.SerializeToString()

    def run_with_conv(self, inputs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Already normalised ONNX inputs -> (embeddings, the pooled frozen conv values the top reads)."""
        if not self._conv_outputs:
            raise ModelCardError(f"model {self.card.name!r} has no fine_tune in its card; its top cannot be refitted")
        emb, *conv = self.session.run(["embedding", *self._conv_outputs], inputs)
        return emb, np.hstack(conv)

    def run(self, raw_windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Raw windows (n x samples x channels) -> (embeddings n x d, pre-training class scores n x k)."""
        return self.run_prepared(self.card.prepare(raw_windows))

    def run_prepared(self, prepared: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.run_inputs(self.card.inputs_from_prepared(prepared))

    def run_inputs(self, inputs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Already normalised ONNX inputs (`ModelCard.inputs_from_prepared`) -> (embeddings, scores)."""
        emb, scores = self.session.run(["embedding", "scores"], inputs)
        return emb, scores
