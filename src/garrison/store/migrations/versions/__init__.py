"""Revision files: NNNN_<pillar>.py, a linear chain."""
