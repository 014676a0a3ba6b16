"""Encoders of the skill-conditioned policy, registered with sample-factory's model factory.

One network serves all five skills: the running skill's one-hot enters the stats MLP *and* is
concatenated to the encoder output that feeds the recurrent core (conditioning, not one head per
skill - as the paper). Both encoders read the keys of :mod:`maestromotif.rl.obs`:

- :class:`CDGPT5Encoder` (``--encoder cdgpt5``): the paper's choice, after the NetHack Challenge's
  "Chaotic Dwarven GPT-5" agent - a conv net over the RGB pixel crop of the tty around the agent,
  a message encoder and a bottom-line-stats MLP.
- :class:`FastEncoder` (``--encoder fast``): learned embeddings of the characters and colours of an
  11x11 tty crop, two small convolutions, a smaller message encoder. About 10x fewer
  multiply-adds per step than the pixel net (see docs/measurements.md for measured speeds).

:data:`ENCODERS` is the registry ``--encoder`` chooses from; :func:`make_encoder` is the module-level
(picklable) factory handed to ``global_model_factory().register_encoder_factory``.
"""

from __future__ import annotations

import torch
from sample_factory.model.encoder import Encoder
from torch import nn

from maestromotif.rl.obs import BLSTAT_SCALES, MESSAGE_CHARS, NUM_SKILLS, VIEW_SHAPES


def _undo_scale(x: torch.Tensor, cfg) -> torch.Tensor:
    """sample-factory divides ``obs`` by ``--obs_scale`` (and subtracts ``--obs_subtract_mean``): undo it."""
    scale = float(getattr(cfg, "obs_scale", 1.0) or 1.0)
    mean = float(getattr(cfg, "obs_subtract_mean", 0.0) or 0.0)
    if scale != 1.0:
        x = x * scale
    if mean != 0.0:
        x = x + mean
    return x.round().long()


class MessageEncoder(nn.Module):
    """Top-line message: byte embeddings, two strided 1-D convolutions, a linear layer."""

    def __init__(self, out: int = 128, emb: int = 16, hid: int = 32):
        super().__init__()
        self.emb = nn.Embedding(256, emb, padding_idx=0)
        self.conv = nn.Sequential(
            nn.Conv1d(emb, hid // 2, 5, stride=2, padding=2), nn.ELU(),
            nn.Conv1d(hid // 2, hid, 5, stride=2, padding=2), nn.ELU(),
        )
        n = hid * ((MESSAGE_CHARS + 3) // 4)
        self.fc = nn.Sequential(nn.Linear(n, out), nn.ELU())
        self.out_size = out

    def forward(self, message: torch.Tensor) -> torch.Tensor:
        x = self.emb(message.long()).transpose(1, 2)
        return self.fc(self.conv(x).flatten(1))


class StatsEncoder(nn.Module):
    """Normalised bottom-line stats + skill one-hot -> MLP; the raw inputs are passed through too."""

    def __init__(self, hid: int = 64):
        super().__init__()
        n = len(BLSTAT_SCALES) + NUM_SKILLS
        self.mlp = nn.Sequential(nn.Linear(n, hid), nn.ELU(), nn.Linear(hid, hid), nn.ELU())
        self.out_size = hid + n

    def forward(self, blstats: torch.Tensor, skill: torch.Tensor) -> torch.Tensor:
        x = torch.cat([blstats.float(), skill.float()], dim=1)
        return torch.cat([self.mlp(x), x], dim=1)


class _SkillEncoder(Encoder):
    """View encoder + message + stats/skill, fused to ``out_size`` features for the core."""

    view_out = 256
    out_size = 256

    message_out = 128

    def __init__(self, cfg, obs_space):
        super().__init__(cfg)
        self.view = self.make_view(obs_space["obs"].shape)
        self.message = MessageEncoder(self.message_out)
        self.stats = StatsEncoder()
        n = self.view_out + self.message.out_size + self.stats.out_size
        self.fuse = nn.Sequential(nn.Linear(n, self.out_size), nn.ELU())
        self.encoder_out_size = self.out_size + NUM_SKILLS

    def make_view(self, shape) -> nn.Module:
        raise NotImplementedError

    def view_input(self, x: torch.Tensor) -> torch.Tensor:
        return x.float()

    def forward(self, obs_dict):
        skill = obs_dict["skill"].float()
        x = torch.cat([
            self.view(self.view_input(obs_dict["obs"])),
            self.message(_undo_message(obs_dict["message"])),
            self.stats(obs_dict["blstats"], skill),
        ], dim=1)
        return torch.cat([self.fuse(x), skill], dim=1)

    def get_out_size(self) -> int:
        return self.encoder_out_size


def _undo_message(message: torch.Tensor) -> torch.Tensor:
    # Only ``obs`` is rescaled by sample-factory; the message arrives as (float) byte values.
    return message.round().long() if message.is_floating_point() else message.long()


class CDGPT5Encoder(_SkillEncoder):
    """Conv net over the ``(3, 72, 72)`` RGB crop (already divided by ``--obs_scale``)."""

    def make_view(self, shape) -> nn.Module:
        c, h, w = shape
        conv = nn.Sequential(
            nn.Conv2d(c, 32, 6, stride=3), nn.ELU(),
            nn.Conv2d(32, 64, 3, stride=2), nn.ELU(),
            nn.Conv2d(64, 64, 3, stride=2), nn.ELU(),
            nn.Flatten(),
        )
        with torch.no_grad():
            n = conv(torch.zeros(1, c, h, w)).shape[1]
        return nn.Sequential(conv, nn.Linear(n, self.view_out), nn.ELU())


class _CharView(nn.Module):
    def __init__(self, shape, out: int, emb: int = 16):
        super().__init__()
        _, h, w = shape
        self.chars = nn.Embedding(256, emb)
        self.colors = nn.Embedding(16, emb)
        self.conv = nn.Sequential(
            nn.Conv2d(emb, 32, 3, stride=2), nn.ELU(),
            nn.Conv2d(32, 32, 3), nn.ELU(),
            nn.Flatten(),
        )
        with torch.no_grad():
            n = self.conv(torch.zeros(1, emb, h, w)).shape[1]
        self.fc = nn.Sequential(nn.Linear(n, out), nn.ELU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, 2, H, W) long
        e = self.chars(x[:, 0]) + self.colors(x[:, 1].clamp(0, 15))  # (B, H, W, emb)
        return self.fc(self.conv(e.permute(0, 3, 1, 2)))


class FastEncoder(_SkillEncoder):
    """Character/colour embeddings of the ``(2, 11, 11)`` crop (small layers: CPU-friendly)."""

    view_out = 128
    message_out = 64
    out_size = 192

    def make_view(self, shape) -> nn.Module:
        return _CharView(shape, self.view_out)

    def view_input(self, x: torch.Tensor) -> torch.Tensor:
        return _undo_scale(x, self.cfg) if x.is_floating_point() else x.long()


ENCODERS: dict[str, type[_SkillEncoder]] = {"cdgpt5": CDGPT5Encoder, "fast": FastEncoder}
assert set(ENCODERS) == set(VIEW_SHAPES)


def make_encoder(cfg, obs_space) -> Encoder:
    """sample-factory encoder factory (module level so that it pickles into worker processes).

    Also applies :mod:`maestromotif.rl.sf_compat` (the V-trace summary fix): this runs in every
    process where sample-factory builds the model, the learner's included."""
    from maestromotif.rl import sf_compat

    sf_compat.apply()
    return ENCODERS[cfg.encoder](cfg, obs_space)
