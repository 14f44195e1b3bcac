"""The handout's ``grade.py``: only ``check`` (the course staff's grade.py also grades).

    python grade.py check <id> [PATH]     # PATH: a .py file, a folder or a .ipynb notebook
"""
import json
import sys
from pathlib import Path

from run_checks import main

USAGE = "usage: python grade.py check <assignment> [PATH]"

if __name__ == "__main__":
    args = sys.argv[1:]
    assignment = json.loads((Path(__file__).resolve().parent / "assignment.json").read_text())["id"]
    if len(args) not in (2, 3) or args[0] != "check":
        sys.exit(f"{USAGE}\n(this handout's grade.py only runs the public tests)")
    if args[1] != assignment:
        sys.exit(f"this is the handout of {assignment}, not {args[1]}")
    extra = []
    if len(args) == 3:
        extra = ["--notebook" if args[2].endswith(".ipynb") else "--target", args[2]]
    sys.exit(main(extra))
