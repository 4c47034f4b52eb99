"""The intake service layer: submissions, withdrawals, supplements and audited ИИН lookups go
through the bus into `handlers.py`, each in one unit of work (`unit_of_work.py`); status reads
go through `views.py`."""
