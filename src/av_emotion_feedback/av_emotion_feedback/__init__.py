"""Results that reach people: a live web view and feedback cues (colour, sound)."""
