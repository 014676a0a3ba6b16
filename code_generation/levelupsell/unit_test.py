# Runnable unit test of the "levelupsell" task: the prompt's unit test with its blanks filled in (30 turns: one turn of the unit test is one skill execution).
# Appended to an answer whose code has no unit test of its own.
import random

# Starting conditions
skill = 'discoverer'
dungeon_depth = 1
branch_number = 0

max_depth = 5

# the environment decides on the branch_depth
branch_depth = 2

player = NetHackPlayer(max_depth, branch_depth)
shop_levels = {d for d in range(2, 11) if random.random() < 0.5}
player.experience_level = 1  # the environment keeps these three up to date
player.items_sold = 0
player.steps = 0
sold_at_step = 10**9
left_too_early = False

for turn in range(30):
    print(f"Turn {turn + 1}: Skill = {skill}, Dungeon depth = {dungeon_depth}, Branch Number = {branch_number}" + f", XP level = {player.experience_level}, Items sold = {player.items_sold}, Steps = {player.steps}")

    if player.items_sold >= 1 and player.steps >= sold_at_step + 300 and not left_too_early:
        print("Task was completed!")
        break

    # a shopkeeper is seen when a level with a shop is being explored (shops: Dungeons of Doom, below level 1)
    merchant_precondition = skill in ('discoverer', 'merchant') and branch_number == 0 and dungeon_depth in shop_levels
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
    left_too_early = left_too_early or (dungeon_depth > 1 and player.experience_level < 4)

    # additional method calls to update attributes go here
    player.steps += 300  # one turn of the unit test can take 300 steps
    if skill == 'discoverer' and random.random() < 0.6:
        player.experience_level += 1
    if skill == 'merchant' and merchant_precondition and player.items_sold == 0:
        player.items_sold = 1
        sold_at_step = player.steps
