"""State backends. ``ClockedMemoryStorage`` serves the exact ``limits`` rules under the limiter's explicit clock."""
