# Runnable unit test of the "select_skill" stage: the prompt's unit test with its blank filled in.
# Appended to an answer whose code has no unit test of its own.
import random  # noqa: F401

# Starting conditions
skill = 'discoverer'
dungeon_depth = 1

max_depth = 4

player = NetHackPlayer(max_depth)

for turn in range(30):

    print(f"Turn {turn + 1}: Skill = {skill}, Dungeon depth = {dungeon_depth}")

    merchant_precondition = False  # no shopkeeper or altar in this test
    worshipper_precondition = False

    skill = player.select_skill(skill, dungeon_depth, merchant_precondition, worshipper_precondition)

    # the environment updates the dungeon_depth
    if skill == 'descender':
        dungeon_depth += 1
    elif skill == 'ascender':
        dungeon_depth -= 1
