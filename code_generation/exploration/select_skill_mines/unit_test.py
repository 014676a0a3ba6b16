# Runnable unit test of the "reach_gnomish_mines" stage: the prompt's unit test with its blank filled in.
# Appended to an answer whose code has no unit test of its own.
import random

# Starting conditions
skill = 'discoverer'
dungeon_depth = 1
branch_number = 0

max_depth = 4

# the environment decides on the branch_depth
branch_depth = 2

player = NetHackPlayer(max_depth, branch_depth)

for turn in range(20):
    print(f"Turn {turn + 1}: Skill = {skill}, Dungeon depth = {dungeon_depth}, Branch Number = {branch_number}")

    merchant_precondition = False  # no shopkeeper or altar in this test
    worshipper_precondition = False

    skill = player.reach_gnomish_mines(skill, dungeon_depth, branch_number, merchant_precondition, worshipper_precondition)

    # the environment updates the dungeon_depth
    if skill == 'descender':
        dungeon_depth += 1
    elif skill == 'ascender':
        dungeon_depth -= 1

    # the environment modifies the branch_number when descending from branch_depth
    if skill == "descender" and dungeon_depth == branch_depth+1:
        branch_number = random.choice([0, 2])
    # If player ascends from gnomish mines, it necessarily goes back to the dungeons of doom
    elif skill == "ascender" and dungeon_depth == branch_depth and branch_number == 2:
        branch_number = 0
