"""The public surface: what ``patternlimit`` exports is deliberate, sorted and importable."""

from __future__ import annotations

from pathlib import Path

import patternlimit
import patternlimit.fingerprint
import patternlimit.integrations
import patternlimit.sketches


def test_all_is_sorted_and_every_name_exists():
    for module in (patternlimit, patternlimit.fingerprint, patternlimit.integrations, patternlimit.sketches):
        assert module.__all__ == sorted(module.__all__), module.__name__
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.{name}"


def test_every_public_class_is_exported():
    public = {
        name
        for name, value in vars(patternlimit).items()
        if not name.startswith("_") and isinstance(value, type) and value.__module__.startswith("patternlimit")
    }
    assert public <= set(patternlimit.__all__)


def test_errors_form_one_tree():
    for name in ("ConfigurationError", "StorageError", "SketchMismatchError", "RateLimitExceeded"):
        assert issubclass(getattr(patternlimit, name), patternlimit.PatternLimitError)
    assert issubclass(patternlimit.ConfigurationError, ValueError)


def test_the_engine_does_not_import_web_code_on_load():
    import subprocess
    import sys

    code = "import sys, patternlimit; print(any(m.startswith('patternlimit.integrations') for m in sys.modules))"
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root)
    assert result.stdout.strip() == "False"
