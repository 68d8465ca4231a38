"""The published language: message schemas and the envelope that carries them.

Contexts talk to each other only through these types. Nothing here has logic
beyond validation; a change to a schema is a new ``version``. ``contexts.py`` lists
the contexts themselves, as plain data that every part listing them reads.
"""
