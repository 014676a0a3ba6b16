"""The reward model r_phi(message, stat deltas) -> scalar.

Architecture (the original's reward encoder ``nle_torchbeast_encoder`` with ``use_diffstats``, i.e.
Motif's character-level 1-D CNN from Henaff et al. 2022):

- message: 256 bytes -> char embedding (256 x 32, byte 0 = padding) -> Conv1d(32->64, k7) -> ReLU ->
  MaxPool(3) -> Conv1d(64->64, k7) -> ReLU -> MaxPool(3) -> 4 x [Conv1d(64->64, k3) -> ReLU] ->
  MaxPool(3) -> flatten (64 x 5) -> Linear(320->128) -> ReLU;
- stat deltas (5 clipped values, see :data:`maestromotif.data.captions.DELTA_NAMES`; the ones not kept
  by :attr:`RewardConfig.keep_deltas` are zeroed) -> Linear(5->E) -> ReLU -> Linear(E->E) -> ReLU;
- both concatenated -> Linear(->H/2) -> ReLU -> Linear(H/2->H) -> ReLU -> Linear(H->1).

E (``encoder_embedding_dim``, default 128) and H (``encoder_hidden_dim``, default 512) are the
original's defaults (~0.36 M parameters).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from maestromotif.data.captions import DELTA_NAMES, MESSAGE_LEN

NUM_CHARS = 256
MSG_EMBED_DIM = 32
MSG_HIDDEN_DIM = 64


class MessageEncoder(nn.Module):
    """Motif's character-level convolutional message encoder: (B, 256) bytes -> (B, 128)."""

    out_dim = 2 * MSG_HIDDEN_DIM

    def __init__(self) -> None:
        super().__init__()
        h = MSG_HIDDEN_DIM
        self.char_embedding = nn.Embedding(NUM_CHARS, MSG_EMBED_DIM, padding_idx=0)
        self.convs = nn.Sequential(
            nn.Conv1d(MSG_EMBED_DIM, h, kernel_size=7), nn.ReLU(), nn.MaxPool1d(3, 3),
            nn.Conv1d(h, h, kernel_size=7), nn.ReLU(), nn.MaxPool1d(3, 3),
            nn.Conv1d(h, h, kernel_size=3), nn.ReLU(),
            nn.Conv1d(h, h, kernel_size=3), nn.ReLU(),
            nn.Conv1d(h, h, kernel_size=3), nn.ReLU(),
            nn.Conv1d(h, h, kernel_size=3), nn.ReLU(), nn.MaxPool1d(3, 3),
            nn.Flatten(),  # 256 chars -> 64 channels x 5 positions
            nn.Linear(5 * h, 2 * h), nn.ReLU(),
        )

    def forward(self, messages: torch.Tensor) -> torch.Tensor:
        x = self.char_embedding(messages.long()).transpose(1, 2)  # (B, 32, 256)
        return self.convs(x)


class RewardModel(nn.Module):
    """r_phi(message, deltas): one scalar per sample (un-normalised)."""

    def __init__(self, embedding_dim: int = 128, hidden_dim: int = 512,
                 keep_deltas: tuple[str, ...] = ("dlvl",)) -> None:
        super().__init__()
        self.message_encoder = MessageEncoder()
        self.delta_encoder = nn.Sequential(
            nn.Linear(len(DELTA_NAMES), embedding_dim), nn.ReLU(),
            nn.Linear(embedding_dim, embedding_dim), nn.ReLU(),
        )
        self.fc = nn.Sequential(
            nn.Linear(MessageEncoder.out_dim + embedding_dim, hidden_dim // 2), nn.ReLU(),
            nn.Linear(hidden_dim // 2, hidden_dim),
        )
        self.head = nn.Sequential(nn.ReLU(), nn.Linear(hidden_dim, 1))
        # The mask is a buffer so it travels with the weights: a model can never see deltas it was
        # not trained with, whoever calls it.
        self.register_buffer("delta_mask", torch.from_numpy(delta_mask(keep_deltas)))
        for m in self.modules():  # sample-factory's default ("orthogonal") init of linear layers
            if isinstance(m, nn.Linear):
                nn.init.orthogonal_(m.weight, gain=nn.init.calculate_gain("relu"))
                nn.init.zeros_(m.bias)

    def forward(self, messages: torch.Tensor, deltas: torch.Tensor) -> torch.Tensor:
        """messages: (B, 256) bytes (any int dtype); deltas: (B, 5) float -> rewards (B,)."""
        d = deltas.float().clamp(-1.0, 1.0) * self.delta_mask
        x = torch.cat([self.message_encoder(messages), self.delta_encoder(d)], dim=1)
        return self.head(self.fc(x)).squeeze(-1)


def delta_mask(keep_deltas: tuple[str, ...] | list[str]) -> np.ndarray:
    """1.0 for each delta in ``keep_deltas``, 0.0 for the others (order of ``DELTA_NAMES``)."""
    unknown = set(keep_deltas) - set(DELTA_NAMES)
    if unknown:
        raise ValueError(f"unknown stat deltas {sorted(unknown)}; known: {', '.join(DELTA_NAMES)}")
    return np.array([1.0 if n in keep_deltas else 0.0 for n in DELTA_NAMES], dtype=np.float32)


def num_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


assert MESSAGE_LEN == 256, "the conv stack's flatten size (64 x 5) assumes 256-byte messages"
