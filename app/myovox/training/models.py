"""Small encoders for sEMG windows: a 1-D CNN and a TCN, each fused with the hand-crafted features.

Both return (embedding, class scores). The embedding (<= 128-d) is what the per-session head
learns the caregiver's gestures from; the class scores exist only to pre-train it.
"""
from __future__ import annotations

import torch
from torch import nn


class FeatureBranch(nn.Module):
    def __init__(self, n_features: int, width: int):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n_features, width), nn.GELU(), nn.Dropout(0.1), nn.Linear(width, width), nn.GELU())

    def forward(self, f):
        return self.net(f)


class CnnEncoder(nn.Module):
    """Three 1-D convolutions over time (channels as input planes), mean+max pooled."""

    def __init__(self, channels: int, n_features: int, n_classes: int, width: int = 32, embed: int = 64):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv1d(channels, width, 5, padding=2), nn.BatchNorm1d(width), nn.GELU(),
            nn.Conv1d(width, width, 5, padding=2), nn.BatchNorm1d(width), nn.GELU(),
            nn.Conv1d(width, 2 * width, 5, padding=2, stride=2), nn.BatchNorm1d(2 * width), nn.GELU(),
        )
        self.features = FeatureBranch(n_features, 2 * width)
        self.embed = nn.Sequential(nn.Dropout(0.2), nn.Linear(6 * width, embed))
        self.classify = nn.Sequential(nn.GELU(), nn.Linear(embed, n_classes))

    def forward(self, window, features):
        h = self.conv(window)
        pooled = torch.cat([h.mean(dim=2), h.amax(dim=2), self.features(features)], dim=1)
        e = self.embed(pooled)
        return e, self.classify(e)


class _TemporalBlock(nn.Module):
    def __init__(self, cin: int, cout: int, dilation: int, kernel: int = 3):
        super().__init__()
        self.pad = (kernel - 1) * dilation
        self.conv1 = nn.Conv1d(cin, cout, kernel, dilation=dilation)
        self.conv2 = nn.Conv1d(cout, cout, kernel, dilation=dilation)
        self.bn1, self.bn2 = nn.BatchNorm1d(cout), nn.BatchNorm1d(cout)
        self.skip = nn.Conv1d(cin, cout, 1) if cin != cout else nn.Identity()
        self.act = nn.GELU()

    def forward(self, x):
        h = self.act(self.bn1(self.conv1(nn.functional.pad(x, (self.pad, 0)))))
        h = self.act(self.bn2(self.conv2(nn.functional.pad(h, (self.pad, 0)))))
        return self.act(h + self.skip(x))


class TcnEncoder(nn.Module):
    """Causal dilated residual blocks (dilations 1, 2, 4, 8): a receptive field over the whole window."""

    def __init__(self, channels: int, n_features: int, n_classes: int, width: int = 32, embed: int = 64):
        super().__init__()
        self.blocks = nn.Sequential(*[_TemporalBlock(channels if i == 0 else width, width, 2 ** i) for i in range(4)])
        self.features = FeatureBranch(n_features, 2 * width)
        self.embed = nn.Sequential(nn.Dropout(0.2), nn.Linear(4 * width, embed))
        self.classify = nn.Sequential(nn.GELU(), nn.Linear(embed, n_classes))

    def forward(self, window, features):
        h = self.blocks(window)
        pooled = torch.cat([h.mean(dim=2), h[:, :, -1], self.features(features)], dim=1)
        e = self.embed(pooled)
        return e, self.classify(e)


class Ensemble(nn.Module):
    """Members trained alike from different seeds, side by side on the same inputs: embeddings
    concatenated (the head sees both views), pre-training class scores averaged."""

    def __init__(self, members: list[nn.Module]):
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, window, features):
        outs = [m(window, features) for m in self.members]
        return torch.cat([e for e, _ in outs], dim=1), torch.stack([s for _, s in outs]).mean(dim=0)


def embedding_dim(model: nn.Module) -> int:
    if isinstance(model, Ensemble):
        return sum(embedding_dim(m) for m in model.members)
    return int(model.embed[-1].out_features)


ARCHITECTURES = {"cnn": CnnEncoder, "tcn": TcnEncoder}
