"""Alerts on sustained or abnormal emotional states, and a mood log with reports."""
