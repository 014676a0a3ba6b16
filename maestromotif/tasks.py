"""The nine zero-shot tasks of MaestroMotif: one table that evaluation, code generation and the pipeline read.

A task is one :class:`TaskSpec`: its name and the paper's title, its kind, the task prompt in the paper's
wording (Table 1 for the composite tasks; the task statements of the original
``code_generation/<task>/initial.txt`` for the others), a one-line summary for code-generation records,
the success detector (a class name in :mod:`maestromotif.eval.detectors`, which this module does not
import, so that it stays below every phase), the paper's MaestroMotif result (Table 1: mean and the ±
the paper reports; a fraction for success rates), what the task's unit test prints when it is done, and
whether its code-generation prompt lists the framework's attributes.

Adding a task: one entry here, a detector class of that name in ``maestromotif/eval/detectors.py``,
and its prompt files in ``code_generation/<name>/`` (data). Evaluation (:mod:`maestromotif.eval.tasks`),
code generation (:mod:`maestromotif.codegen.tasks`) and the pipeline (:mod:`maestromotif.pipeline.config`)
pick it up from here.

The training-time policy over skills (:data:`TRAINING_POLICY`, ``exploration``) is not an evaluation
task; code generation defines its five stages itself.
"""

from __future__ import annotations

from dataclasses import dataclass

TRAINING_POLICY = "exploration"


@dataclass(frozen=True)
class TaskSpec:
    name: str
    title: str                # the paper's name for it
    kind: str                 # navigation | interaction | composite
    prompt: str               # the task in the paper's wording
    summary: str              # one line, for code-generation records
    detector: str             # class name in maestromotif.eval.detectors
    paper: float              # MaestroMotif, Table 1 (a fraction for success rates)
    paper_pm: float
    success_message: str      # what code_generation/<name>/unit_test.py prints when the task is done
    attributes: bool = False  # the code-generation prompt lists the attributes the framework supplies
    meta_policy: str = ""     # rl_baseline/meta_policies/<meta_policy>/; defaults to the name


TASKS: dict[str, TaskSpec] = {t.name: t for t in (
    TaskSpec(
        'gnomish', 'Gnomish Mines', 'navigation',
        prompt=('You are now faced with the task of finding the Gnomish Mines. Write the code for'
                ' "perform_task" method such that the player reaches the Gnomish Mines.'),
        summary=('Find the Gnomish Mines.'),
        detector='Gnomish', paper=0.46, paper_pm=0.017,
        success_message='Reached the Gnomish Mines!'),
    TaskSpec(
        'delphi', 'Delphi', 'navigation',
        prompt=('You are now faced with the task of finding the Oracle level. The Oracle level is'
                ' located in the Dungeons of Doom (branch number 0) and can appear as low as a '
                'depth of 9. The Gnomish Mines form a secondary branch (branch number 2) starting'
                ' from branch_depth+1. Write the code for "perform_task" method such that the '
                'player reaches the Oracle level as fast as possible, rather than exploring the '
                'first few levels or venturing into the Gnomish Mines.'),
        summary=('Find the Oracle level (Delphi) in the Dungeons of Doom.'),
        detector='Delphi', paper=0.29, paper_pm=0.012,
        success_message='Reached the Oracle level!'),
    TaskSpec(
        'minetown', 'Minetown', 'navigation',
        prompt=('You are now faced with the task of finding Minetown. Minetown is located in the '
                'Gnomish Mines (branch number 2) and can appear as low as a depth of 8. The '
                'Gnomish Mines form a secondary branch (branch number 2) starting from '
                'branch_depth+1. Write the code for "perform_task" method such that the player '
                'reaches the Gnomish Mines, and then, heads directly for Minetown, without '
                'exploring further.'),
        summary=('Find Minetown in the Gnomish Mines.'),
        detector='Minetown', paper=0.072, paper_pm=0.005,
        success_message='Reached Minetown!'),
    TaskSpec(
        'transactions', 'Transactions', 'interaction',
        prompt=('You are now faced with the task of interacting with a shopkeeper by successfully'
                ' selling items. Write the code for "perform_task" method such that the player '
                'interacts with the shopkeeper, which appears more often in the Dungeons of Doom.'),
        summary=('Interact with a shopkeeper by successfully selling items.'),
        detector='Transactions', paper=0.66, paper_pm=0.01,
        success_message='Sold an item!'),
    TaskSpec(
        'price', 'Price Identified', 'interaction',
        prompt=('You are now faced with the task of interacting with a shopkeeper by attempting '
                'to sell an item to identify it. Write the code for "perform_task" method such '
                'that the player interacts with the shopkeeper, which appears more often in the '
                'Dungeons of Doom.'),
        summary=('Interact with a shopkeeper by attempting to sell an item to identify its price.'),
        detector='Price', paper=0.47, paper_pm=0.01,
        success_message='Identified an item!'),
    TaskSpec(
        'buc', 'BUC Identified', 'interaction',
        prompt=('You are now faced with the task of interacting with an altar by successfully '
                'identifying items. Write the code for "perform_task" method such that the player'
                ' interacts with the altar, which appears more often in the Dungeons of Doom.'),
        summary=('Interact with an altar by identifying whether items are blessed, uncursed or '
                 'cursed.'),
        detector='Buc', paper=1.6, paper_pm=0.01,
        success_message='Interacted with an altar!'),
    TaskSpec(
        'goldenexit', 'Golden Exit', 'composite',
        prompt=('Alternate between the first three levels of the Dungeons of Doom (at least once)'
                ' until you collect a minimum of 20 gold pieces and defeat 25 monsters; finally '
                'try to quit NetHack'),
        summary=('Alternate between the first three levels of the Dungeons of Doom (at least '
                 'once) until you collect a minimum of 20 gold pieces and defeat 25 monsters; '
                 'finally try to quit NetHack.'),
        detector='GoldenExit', paper=0.248, paper_pm=0.0118,
        success_message='Task was completed!', attributes=True),
    TaskSpec(
        'levelupsell', 'Level Up & Sell', 'composite',
        prompt=('Do not leave the first dungeon level until you achieve XP level 4, then find a '
                'shopkeeper and sell an item that you have collected; finally survive for another'
                ' 300 steps.'),
        summary=('Do not leave the first dungeon level until you achieve XP level 4, then find a '
                 'shopkeeper and sell an item that you have collected; finally survive for '
                 'another 300 steps.'),
        detector='LevelUpSell', paper=0.0709, paper_pm=0.0099,
        success_message='Task was completed!', attributes=True),
    TaskSpec(
        'discoveryhunger', 'Discovery Hunger', 'composite',
        prompt=('Reach the oracle level (the Delphi) in the Dungeons of Doom, but not before '
                'discovering the Gnomish Mines and eating some food there after getting hungry.'),
        summary=('Reach the oracle level (the Delphi) in the Dungeons of Doom, but not before '
                 'discovering the Gnomish Mines and eating some food there after getting hungry.'),
        detector='DiscoveryHunger', paper=0.0791, paper_pm=0.0147,
        success_message='Reached the Oracle level!', attributes=True),
)}
TASK_NAMES: tuple[str, ...] = tuple(TASKS)
