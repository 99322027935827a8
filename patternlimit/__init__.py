"""patternlimit."""
