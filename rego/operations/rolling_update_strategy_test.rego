package kubepolicy.operations.rolling_update_strategy_test

import data.kubepolicy.operations.rolling_update_strategy

deployment(spec) := {"object": {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "api", "namespace": "shop"},
	"spec": object.union(
		{
			"selector": {"matchLabels": {"app": "api"}},
			"template": {"metadata": {"labels": {"app": "api"}}, "spec": {"containers": [{"name": "api", "image": "acme/api:1.0"}]}},
		},
		spec,
	),
}}

fix := [{"op": "add", "path": "/spec/strategy", "value": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}}]

test_fires_once_for_recreate_with_fix if {
	findings := rolling_update_strategy.violation with input as deployment({"replicas": 3, "strategy": {"type": "Recreate"}})
	count(findings) == 1
	some f in findings
	f.path == "/spec/strategy/type"
	f.msg == `Deployment "api" uses spec.strategy.type Recreate, which stops every pod before starting new ones`
	f.fix == fix
}

test_fires_for_max_unavailable_of_100_percent if {
	[f] := [f | some f in rolling_update_strategy.violation] with input as deployment({"replicas": 3, "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "100%"}}})
	f.path == "/spec/strategy/rollingUpdate/maxUnavailable"
	f.fix == fix
}

test_fires_for_max_unavailable_count_covering_every_replica if {
	count(rolling_update_strategy.violation) == 1 with input as deployment({"replicas": 3, "strategy": {"rollingUpdate": {"maxUnavailable": 3}}})
	count(rolling_update_strategy.violation) == 1 with input as deployment({"strategy": {"rollingUpdate": {"maxUnavailable": 1}}})
}

test_no_fix_when_claims_are_mounted if {
	with_claim := deployment({"strategy": {"type": "Recreate"}, "template": {"metadata": {"labels": {"app": "api"}}, "spec": {
		"containers": [{"name": "api", "image": "acme/api:1.0"}],
		"volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "api-data"}}],
	}}})
	[f] := [f | some f in rolling_update_strategy.violation] with input as with_claim
	f.path == "/spec/strategy/type"
	object.keys(f) == {"msg", "path"}
}

test_quiet_for_rolling_update_that_keeps_pods if {
	count(rolling_update_strategy.violation) == 0 with input as deployment({"replicas": 3})
	count(rolling_update_strategy.violation) == 0 with input as deployment({"replicas": 3, "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "50%"}}})
	count(rolling_update_strategy.violation) == 0 with input as deployment({"replicas": 3, "strategy": {"rollingUpdate": {"maxUnavailable": 2}}})
	count(rolling_update_strategy.violation) == 0 with input as deployment({"replicas": 0, "strategy": {"rollingUpdate": {"maxUnavailable": 0}}})
}

test_quiet_for_other_kinds if {
	count(rolling_update_strategy.violation) == 0 with input as {"object": {
		"kind": "StatefulSet",
		"metadata": {"name": "db"},
		"spec": {"strategy": {"type": "Recreate"}, "template": {"spec": {"containers": [{"name": "db"}]}}},
	}}
}
