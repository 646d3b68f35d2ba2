"""The CoNDIS rule checker: rules as data (:mod:`cm.rules.registry`) and the observer that enforces them
on the NDIS dispatcher (:mod:`cm.rules.checker`)."""

from cm.rules.checker import COMPLETION_OF, Mode, Report, RuleChecker, RuleViolation, Violation
from cm.rules.registry import RULES, Rule, rule

__all__ = ["COMPLETION_OF", "Mode", "RULES", "Report", "Rule", "RuleChecker", "RuleViolation", "Violation", "rule"]
