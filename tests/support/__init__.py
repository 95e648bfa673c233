"""Test helpers shared by every domain's tests."""
