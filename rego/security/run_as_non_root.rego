# METADATA
# title: Container may run as root
# description: >-
#   Containers must be required to run as a non-root user: runAsNonRoot: true on the container or the pod (the container
#   value wins), and no effective runAsUser: 0. A process running as root inside the container is root on the host
#   once it escapes.
# custom:
#   id: run-as-non-root
#   category: security
#   severity: high
#   frameworks:
#     SOC2: ["CC6.1", "CC6.8"]
#     HIPAA: ["164.312(a)(1)"]
#     PCI-DSS: ["2.2.1", "2.2.6"]
#     ISO27001: ["A.8.2", "A.8.9"]
#     CIS: ["5.2.7"]
#     NSA-CISA: ["Pod security: non-root containers and rootless container engines"]
#   remediation: Set securityContext.runAsNonRoot to true and run as a non-zero UID (the image's USER or securityContext.runAsUser).
#   fix:
#     risk: medium
package kubepolicy.security.run_as_non_root

import data.lib.kubernetes as k8s
import data.lib.patch
import data.lib.text

non_root_keys := ["securityContext", "runAsNonRoot"]

violation contains finding if {
	some entry in k8s.containers
	problem := problem_of(entry)
	base := {
		"msg": concat("", [k8s.describe(entry), " of ", k8s.workload, " ", text.str(problem.text)]),
		"path": problem.path,
	}
	finding := with_fix(base, entry)
}

# A container-level setting overrides the pod-level one; null counts as unset.
# (Helpers below are predicates because OPA evaluates a call's value outside `not`: `not f(x) == v` fails when f(x) is undefined.)
own(entry, key) := entry.container.securityContext[key] if entry.container.securityContext[key] != null

pod_level(key) := k8s.pod_spec.securityContext[key] if k8s.pod_spec.securityContext[key] != null

has_own(entry, key) if own(entry, key) != null

effective(entry, key) := own(entry, key)

effective(entry, key) := pod_level(key) if not has_own(entry, key)

requires_non_root(entry) if effective(entry, "runAsNonRoot") == true

own_root_uid(entry) if own(entry, "runAsUser") == 0

root_uid(entry) if effective(entry, "runAsUser") == 0

# One problem per container: running as UID 0 is reported before a missing runAsNonRoot.
problem_of(entry) := {
	"text": "runs as root (securityContext.runAsUser: 0)",
	"path": patch.pointer(entry.pointer, ["securityContext", "runAsUser"]),
} if {
	own_root_uid(entry)
} else := {
	"text": "runs as root (pod securityContext.runAsUser: 0)",
	"path": patch.pointer(k8s.pod_spec_pointer, ["securityContext", "runAsUser"]),
} if {
	root_uid(entry)
} else := {
	"text": "does not set securityContext.runAsNonRoot: true (neither the container nor the pod does)",
	"path": located(entry.container, entry.pointer, non_root_keys),
} if {
	not requires_non_root(entry)
}

# The fix requires a non-root user at start (the kubelet then refuses to run the container as root) and drops a
# container-level runAsUser: 0 so the image's user, or the pod's runAsUser, applies. When that leaves the pod-level
# runAsUser: 0 in force, runAsNonRoot would only stop the container from starting, so such containers get no fix.
with_fix(finding, entry) := object.union(finding, {"fix": array.concat(drop_root_uid(entry), set_non_root(entry))}) if {
	not root_after_fix(entry)
}

with_fix(finding, entry) := finding if root_after_fix(entry)

root_after_fix(entry) if {
	not own_non_root_uid(entry)
	pod_level("runAsUser") == 0
}

own_non_root_uid(entry) if own(entry, "runAsUser") != 0

drop_root_uid(entry) := patch.remove(entry.pointer, ["securityContext", "runAsUser"]) if own_root_uid(entry)

default drop_root_uid(_) := []

# A container that already requires non-root (itself or through the pod) only needs its runAsUser: 0 dropped.
set_non_root(entry) := [] if requires_non_root(entry)

set_non_root(entry) := patch.set(entry.container, entry.pointer, non_root_keys, true) if not requires_non_root(entry)

# JSON Pointer of the field when it is set, else of its closest existing parent.
located(obj, base, path) := patch.pointer(base, array.slice(path, 0, depth)) if {
	depth := max({i |
		some i in numbers.range(0, count(path))
		object.get(obj, array.slice(path, 0, i), null) != null
	})
}
