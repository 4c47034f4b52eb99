"""A regional-office simulator: offices and ЦОН desks of several oblasts submitting applications to a
running Qyzmet over its real HTTP APIs, commissions recording inspections, heads signing, and some
applicants complaining (`qyzmet simulate`, also started by `qyzmet run`).

It reads only the catalog (services, editions, documents, refusal grounds, regions) and the intake
service's office register; it invents no legal number. Applicants are made up (valid ИИН with the
check digit, families, declared incomes); their data never appears in its output.
"""
