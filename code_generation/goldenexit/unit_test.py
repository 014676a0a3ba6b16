# Runnable unit test of the "goldenexit" task: the prompt's unit test with its blanks filled in (30 turns: one turn of the unit test is one skill execution).
# Appended to an answer whose code has no unit test of its own.
import random

# Starting conditions
skill = 'discoverer'
dungeon_depth = 1
branch_number = 0

max_depth = 3

# the environment decides on the branch_depth
branch_depth = 2

player = NetHackPlayer(max_depth, branch_depth)
player.gold = 0  # the environment keeps these two up to date
player.kills = 0
reached_third_level = False

for turn in range(30):
    print(f"Turn {turn + 1}: Skill = {skill}, Dungeon depth = {dungeon_depth}, Branch Number = {branch_number}" + f", Gold = {player.gold}, Kills = {player.kills}")

    if dungeon_depth == 0 and player.gold >= 20 and player.kills >= 25 and reached_third_level:
        print("Task was completed!")
        break

    merchant_precondition = False  # no shopkeeper or altar matters for this task
    worshipper_precondition = False

    skill = player.perform_task(skill, dungeon_depth, branch_number, merchant_precondition, worshipper_precondition)

    # the environment updates the dungeon_depth
    if skill == 'descender':
        dungeon_depth += 1
    elif skill == 'ascender':
        dungeon_depth -= 1

    # the environment modifies the branch_number when descending from branch_depth
    if skill == "descender" and dungeon_depth == branch_depth+1 and branch_number == 0:
        branch_number = random.choice([0, 2])
    # If player ascends from gnomish mines, it necessarily goes back to the dungeons of doom
    elif skill == "ascender" and dungeon_depth == branch_depth and branch_number == 2:
        branch_number = 0
    reached_third_level = reached_third_level or (branch_number == 0 and dungeon_depth >= 3)

    # additional method calls to update attributes go here
    if skill == 'discoverer':  # exploring a level finds gold and fights monsters
        player.gold += random.randint(0, 8)
        player.kills += random.randint(1, 6)
