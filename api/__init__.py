"""The HTTP door: a FastAPI service for suppliers, agents and auditors, and the supplier portal."""
