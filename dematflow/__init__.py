"""dematflow's shared kernel: the version and the error tree every package may import."""

__version__ = "0.1.0"
