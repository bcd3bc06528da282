import sys
from pathlib import Path

# The tests import greet.py beside them; the SDK itself comes from src/ (pyproject's pythonpath).
sys.path.insert(0, str(Path(__file__).parent))
