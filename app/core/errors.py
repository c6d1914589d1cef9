"""The one base class front ends catch: a problem the user can act on, told in one line."""


class HearthError(Exception):
    pass
