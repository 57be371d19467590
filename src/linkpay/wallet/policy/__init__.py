"""The person's rules between "the agent asks" and "money moves": limits, ordered
rules, budgets and the reservation ledger.

The evaluation modules (`periods`, `rules`, `words`, `limits`, `budgets`) are pure:
they take facts and figures and answer, so they can be tested exhaustively and reused
by the dry run. The modules that read and write the database (`ledger`, `service`)
gather those facts inside the caller's transaction and write the ledger rows in it.
"""
