"""The modular monolith: every context in one process and one database.

Each context is built by its own bootstrap; this package only wires them together. It keeps
what truly joins contexts: the adapters that answer orders' ports with another context's
bootstrap inside the order's transaction (``collaborators.py``), the app that serves every
context's routers (``app.py``), and the order details, composed from three contexts' views
(``order_details.py``, the API composition pattern).
"""
