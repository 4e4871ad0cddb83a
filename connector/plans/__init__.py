"""Planning runs and what the merchant does with them.

`planning_runs` loads a shop's facts, runs `domain.planning`'s pure `plan_shop` and stores the plan;
`planning_actions` approves or discards drafts and exports or emails the plan to suppliers. May
import `domain`, `storage`, `shops`, `supply`, `dispatch`, `mail`.
"""
