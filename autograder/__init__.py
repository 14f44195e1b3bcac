"""dl-autograder: hidden pytest suites, isolated student workers, timed checks."""
from pathlib import Path

__version__ = "0.1.0"

PACKAGE_DIR = Path(__file__).resolve().parent
ROOT = PACKAGE_DIR.parent
