"""The one base class for mistakes a user can fix: the CLI prints them without a traceback."""


class ConvlabError(Exception):
    """A user-fixable problem; the message says what is wrong and how to fix it."""
