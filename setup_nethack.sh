#!/usr/bin/env bash
# Game-side setup for maestromotif (idempotent): writes the paper's NetHack options file where NLE
# will read it, and plays one short smoke episode of the real game.
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python}
"$PY" - <<'PYEOF'
from maestromotif.nethack.game_options import nle_options
from maestromotif.nethack.env import make_env
from maestromotif.nethack.obs import message_text
print("NetHack options file:", nle_options()[0][1:])
env = make_env(max_episode_steps=50)
obs, info = env.reset(seed=0)
steps, done = 0, False
while not done:
    obs, reward, done, truncated, info = env.step(env.action_space.sample())
    done = done or truncated
    steps += 1
env.close()
print(f"smoke episode: {steps} steps, last message {message_text(obs['message'])!r} - NetHack works")
PYEOF
