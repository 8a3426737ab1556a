"""The bands of the scores customers and staff give, one definition for every count."""

PROMOTER = 9  # NPS and eNPS 9-10
DETRACTOR = 6  # NPS and eNPS 0-6
SATISFIED = 4  # CSAT 4-5
DISSATISFIED = 2  # CSAT 1-2
