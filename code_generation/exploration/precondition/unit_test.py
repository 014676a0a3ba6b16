# Runnable unit test of the "skill_precondition" stage (the one in the prompt).
# Appended to an answer whose code has no unit test of its own.
import numpy as np

# Starting conditions
player = NetHackPlayer(max_depth=4, branch_depth=2)
color_map = {"@": 15, "_": 7}

def view(things):
    chars = np.full((7, 7), ord("."), dtype=np.uint8)
    colors = np.full((7, 7), 7, dtype=np.int8)
    chars[3, 3], colors[3, 3] = ord("@"), 0  # the player
    for row, col, char, color in things:
        chars[row, col], colors[row, col] = ord(char), color
    return chars, colors

cases = [
    # description, things around the player, number of items
    ("an empty room", [], 3),
    ("a shopkeeper", [(1, 2, "@", 15)], 3),
    ("a shopkeeper, nothing to sell", [(1, 2, "@", 15)], 0),
    ("a hostile human", [(5, 4, "@", 1)], 3),
    ("an altar", [(6, 0, "_", 7)], 2),
    ("an altar, no items", [(6, 0, "_", 7)], 0),
    ("a shopkeeper and an altar", [(0, 6, "@", 15), (4, 4, "_", 7)], 1),
]

for description, things, num_items in cases:
    chars, colors = view(things)
    worshipper, merchant = player.skill_precondition(chars, colors, num_items, color_map)
    print(f"Around the player: {description}, items = {num_items}: "
          f"worshipper_precondition = {worshipper}, merchant_precondition = {merchant}")
