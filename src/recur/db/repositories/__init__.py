"""Repositories: the only code that reads and writes the tables.

A service opens a unit of work (`Database.run`, `Database.read`) and hands its
session to the functions here. They take plain values or domain specs, and
return domain records (`recur.domain.*`), never ORM rows: no service and no
door sees a row, a query or a statement. One module per aggregate, named for it.
"""
