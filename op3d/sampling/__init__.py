"""Sampling images, videos and shapes from a trained generator."""
