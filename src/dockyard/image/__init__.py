"""Helpers over the Image/ImageIndex/Layer protocols: validation, platform selection, walking."""
