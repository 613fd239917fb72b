"""The package version, in a module of its own so every layer can read it without importing the package root.

The root ``oqc_provider/__init__.py`` reaches up to the front ends (lazily); a wire-layer module that read
``oqc_provider.__version__`` would depend, through it, on every layer above it.
"""

__version__ = "0.1.0"
