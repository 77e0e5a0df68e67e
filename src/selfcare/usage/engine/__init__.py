"""The rating engine in plain Python: no database access here, only dicts, tuples and small classes.

`inputs` validates raw records, `classify` finds the usage class and zone, `pricing` holds the rules
(one small class per rule), `periods` computes local calendar periods, `catalog` turns catalog rows
into lookup tables and price plans, and `rater` runs a batch through them. `usage.services` loads
what a batch needs from the database, calls the rater and writes the results.
"""
