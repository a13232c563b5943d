"""The one error of minigen.data."""


class DataError(ValueError):
    """Data that cannot be used: a file or folder missing, damaged or of the wrong kind, or arrays
    that do not fit together. The message names the file (or the function) and what is wrong."""
