"""The paper's character and NetHack game options (the nethackrc), fed to the released ``nle`` package
without patching it. (The *options framework* that runs skills is another thing: ``maestromotif.skills.options``.)

NLE passes its ``options`` list to NetHack as one comma-joined ``NETHACKOPTIONS`` string, to which it
appends ``name:Agent-<character>`` (and ``playmode:debug`` in wizard mode). NetHack treats a
``NETHACKOPTIONS`` that starts with ``@`` as the path of a config file - which is the only way to
set ``MSGTYPE`` (hiding "You see ..."/"You hear ...") and autopickup exceptions. So we write the
config file under the exact name NetHack will look for: ``<dir>/nethackrc,name:Agent-<character>``
(``,playmode:debug`` appended for wizard mode) and pass ``@<dir>/nethackrc``.

The file lives in a directory keyed by a hash of its content, so concurrent workers share it and a
changed config never reuses a stale file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from maestromotif.utils.io import atomic_write_text

# Human neutral male Monk, as the paper.
CHARACTER = "mon-hum-neu-mal"

NETHACKRC = """\
# maestromotif: the MaestroMotif paper's NetHack options.
OPTIONS=autopickup,color,nobones,nolegacy,nocmdassist,nosparkle,norest_on_space
OPTIONS=disclose:+i +a +v +g +c +o
OPTIONS=runmode:teleport,showexp,showscore,time
OPTIONS=paranoid_confirmation:none
OPTIONS=pettype:none
OPTIONS=race:hum,role:mon,gender:mal,align:neu
# the name NLE would give: without it NetHack reads $USER/$LOGNAME and NLE warns on stderr every reset
OPTIONS=name:agent
OPTIONS=pickup_types:$?!/%
OPTIONS=pickup_burden:unencumbered
# corpses, tins and the Monk's shunned armour are not picked up
AUTOPICKUP_EXCEPTION="<.* .* pair of leather gloves"
AUTOPICKUP_EXCEPTION="<.* .* robe"
AUTOPICKUP_EXCEPTION="> corpse"
AUTOPICKUP_EXCEPTION=">.* tin.*"
AUTOPICKUP_EXCEPTION="<lichen corpse"
AUTOPICKUP_EXCEPTION="<lizard corpse"
AUTOPICKUP_EXCEPTION="<newt corpse"
AUTOPICKUP_EXCEPTION="<floating eye corpse"
MSGTYPE=hide "You see .*"
MSGTYPE=hide "You hear .*"
"""


def _rc_dir(text: str) -> Path:
    base = os.environ.get("MAESTROMOTIF_NETHACKRC_DIR") or tempfile.gettempdir()
    digest = hashlib.sha1(text.encode()).hexdigest()[:12]
    return Path(base) / f"maestromotif-nethackrc-{digest}"


def nle_options(character: str = CHARACTER, wizard: bool = False, extra_lines: str = "") -> tuple[str]:
    """The ``options`` argument for ``nle.env.base.NLE``: ``("@<path>",)`` of a written config file."""
    text = NETHACKRC + extra_lines
    d = _rc_dir(text)
    if "," in str(d) or " " in str(d):
        raise RuntimeError(f"NetHack config directory {d} must not contain ',' or spaces; "
                           "set MAESTROMOTIF_NETHACKRC_DIR to another directory")
    # NetHack opens exactly this name: NLE appends these options to ours with commas.
    suffix = f",name:Agent-{character}" + (",playmode:debug" if wizard else "")
    target = d / f"nethackrc{suffix}"
    if not target.exists():
        atomic_write_text(target, text + ("OPTIONS=playmode:debug\n" if wizard else ""))
    return (f"@{d / 'nethackrc'}",)
