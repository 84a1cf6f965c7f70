"""Experiment config pieces: defensive YAML reading (``yaml_source``) and the condition union
(``conditions``). ``planner_loop.experiment`` puts them together."""
