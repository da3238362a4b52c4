"""GAN Stability Lab engine: training, stabilizers, metrics and the command line (no web code)."""
