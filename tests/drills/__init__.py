"""The coding drills' graders (one `test_<drill>.py` per drill) and the appendix contract."""
