"""Reporting: the run report, its plots and the console summary, drawn from the run's facts.

Training assembles one typed record of what a run found and hands it over; nothing here
reaches back into training, serving or the CLI.
"""
