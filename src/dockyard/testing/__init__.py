"""Test helpers shipped with the package: random images, real-peer fixtures."""
