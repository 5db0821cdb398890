# METADATA
# title: Rolling update strategy
# description: >-
#   A Deployment that uses the Recreate strategy, or a rolling update allowed to take every pod down at once,
#   has an outage on every rollout.
# custom:
#   id: rolling-update-strategy
#   category: operations
#   severity: medium
#   frameworks:
#     SOC2: ["A1.1", "CC8.1"]
#     ISO27001: ["A.8.32"]
#   remediation: Use spec.strategy.type RollingUpdate with a maxUnavailable below the replica count (for example 25%).
#   fix:
#     risk: low
package kubepolicy.operations.rolling_update_strategy

import data.lib.kubernetes as k8s
import data.lib.text

rolling_update := {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}

default strategy := {}

strategy := k8s.obj.spec.strategy if is_object(k8s.obj.spec.strategy)

strategy_type := object.get(strategy, "type", "RollingUpdate")

problem := {
	"msg": concat("", [k8s.workload, " uses spec.strategy.type Recreate, which stops every pod before starting new ones"]),
	"path": "/spec/strategy/type",
} if {
	strategy_type == "Recreate"
}

problem := {
	"msg": concat("", [k8s.workload, " sets spec.strategy.rollingUpdate.maxUnavailable to ", text.str(max_unavailable), ", which lets a rollout stop every pod at once"]),
	"path": "/spec/strategy/rollingUpdate/maxUnavailable",
} if {
	strategy_type == "RollingUpdate"
	max_unavailable := strategy.rollingUpdate.maxUnavailable
	takes_all_down(max_unavailable)
}

takes_all_down(value) if {
	is_number(value)
	k8s.replicas > 0
	value >= k8s.replicas
}

takes_all_down(value) if {
	is_string(value)
	endswith(value, "%")
	percent := trim_suffix(value, "%")
	percent != ""
	trim(percent, "0123456789.") == ""
	to_number(percent) >= 100
}

# With PersistentVolumeClaims mounted, Recreate may be deliberate: a ReadWriteOnce volume cannot attach to the
# surge pod on another node and the rollout would hang. Those Deployments get the finding but no automatic fix.
violation contains {
	"msg": problem.msg,
	"path": problem.path,
	"fix": [{"op": "add", "path": "/spec/strategy", "value": rolling_update}],
} if {
	k8s.kind == "Deployment"
	not k8s.has_pvc_volumes
}

violation contains {
	"msg": concat("", [text.str(problem.msg), " (it mounts PersistentVolumeClaims: switch only if they allow ReadWriteMany or the pod stays on one node)"]),
	"path": problem.path,
} if {
	k8s.kind == "Deployment"
	k8s.has_pvc_volumes
}
