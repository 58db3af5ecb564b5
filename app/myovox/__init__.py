"""myovox: surface-EMG bursts to speech, at the bedside, offline."""
__version__ = "0.1.0"
