"""The decision service layer: commands on cases go through the bus (`bus.py`) into the case
handlers (`handlers.py`), each in one unit of work (`unit_of_work.py`)."""
