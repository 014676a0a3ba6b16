# Runnable unit test of the "skill_termination" stage (the one in the prompt).
# Appended to an answer whose code has no unit test of its own.

# Starting conditions
player = NetHackPlayer(max_depth=4, branch_depth=2)
player.discoverer_skill_steps = 500
player.merchant_skill_steps = player.discoverer_skill_steps * 20
player.worshipper_skill_steps = player.discoverer_skill_steps * 20

cases = [
    # skill, skill_time, current_depth, previous_depth, preconditions
    ("discoverer", 10, 1, 1, [False, False]),
    ("discoverer", 500, 1, 1, [False, False]),
    ("discoverer", 10, 1, 1, [True, False]),
    ("discoverer", 1, 1, 1, [True, False]),  # the policy over skills chose the Discoverer again: declined
    ("descender", 30, 1, 1, [False, False]),
    ("descender", 31, 2, 1, [False, False]),
    ("ascender", 40, 3, 3, [False, False]),
    ("ascender", 41, 2, 3, [False, False]),
    ("ascender", 12, 3, 3, [False, True]),
    ("merchant", 100, 2, 2, [False, True]),
    ("merchant", 101, 2, 2, [True, True]),
    ("merchant", 10000, 2, 2, [False, False]),
    ("worshipper", 100, 3, 3, [True, False]),
    ("worshipper", 10000, 3, 3, [False, False]),
]

for skill, skill_time, current_depth, previous_depth, preconditions in cases:
    stop = player.skill_termination(skill, skill_time, current_depth, previous_depth, preconditions)
    print(f"Skill = {skill}, skill time = {skill_time}, depth {previous_depth} -> {current_depth}, "
          f"[worshipper, merchant] preconditions = {preconditions}: terminate = {stop}")
