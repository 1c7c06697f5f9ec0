"""A class on one server: who owns which saved model, the classes, their members and their board.

No Streamlit here: the pages call these functions, and the tests call them with threads and processes.
Each function takes an SQLAlchemy engine (`classroom.db.engine()`); a refusal is a `Refused` whose message is
written for the person who asked.
"""


class Refused(ValueError):
    """A request turned down: the message says why, in words for the person who asked."""
