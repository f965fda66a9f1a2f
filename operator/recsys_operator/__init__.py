"""The kopf operator: RecommenderModel resources -> training Jobs -> gates -> canary -> promote or roll back.

(Not named `operator`: that would shadow the standard library module.)
"""

GROUP = "recsys.dev"
VERSION = "v1alpha1"
PLURAL = "recommendermodels"
