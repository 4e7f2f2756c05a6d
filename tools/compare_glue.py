"""Compare the glued values of two builds: every key, every MIME type.

Usage: ``python tools/compare_glue.py BEFORE AFTER``, each a copy of a build's
``_build/jupyter_execute/book`` (the ``*.glue.json`` files). It prints the keys
found in one build only and the keys whose data differ (their text/plain shown);
figures (``image/svg+xml``) are compared byte for byte. A refactoring should
leave every key identical except the timings and what a timing decides.
"""

import json
import sys
from pathlib import Path

before, after = Path(sys.argv[1]), Path(sys.argv[2])
pages = sorted(
    {p.name for p in before.glob("*.glue.json")}
    | {p.name for p in after.glob("*.glue.json")}
)
total = same = 0
differ = []
for page in pages:
    a = json.loads((before / page).read_text()) if (before / page).exists() else {}
    b = json.loads((after / page).read_text()) if (after / page).exists() else {}
    for key in sorted(set(a) | set(b)):
        total += 1
        if key not in a or key not in b:
            differ.append(
                (page, key, "only in " + ("after" if key in b else "before"), "")
            )
            continue
        da, db = a[key].get("data", {}), b[key].get("data", {})
        if da == db:
            same += 1
            continue
        kinds = sorted(k for k in set(da) | set(db) if da.get(k) != db.get(k))
        detail = (
            f"{da.get('text/plain', '')[:60]!r} -> {db.get('text/plain', '')[:60]!r}"
        )
        differ.append((page, key, ",".join(kinds), detail))
print(f"{len(pages)} pages, {total} glued keys: {same} identical, {len(differ)} differ")
for page, key, kinds, detail in differ:
    print(f"  {page[:-10]:24s} {key:32s} [{kinds}] {detail}")
