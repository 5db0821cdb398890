# METADATA
# title: Seccomp profile
# description: >-
#   Containers should run with the container runtime's default seccomp profile (or a Localhost
#   profile), which blocks system calls that containers do not need and that kernel exploits rely on.
# custom:
#   id: seccomp-profile
#   category: security
#   severity: medium
#   frameworks:
#     SOC2: ["CC6.1", "CC6.8"]
#     HIPAA: ["164.312(a)(1)"]
#     PCI-DSS: ["2.2.1", "2.2.6"]
#     ISO27001: ["A.8.9"]
#     CIS: ["5.7.2"]
#     NSA-CISA: ["Pod security: hardening container environments"]
#   remediation: Set securityContext.seccompProfile.type to RuntimeDefault (or Localhost) on the pod, and remove any container-level Unconfined profile.
#   fix:
#     risk: low
package kubepolicy.security.seccomp_profile

import data.lib.kubernetes as k8s
import data.lib.patch
import data.lib.text

confined_types := {"RuntimeDefault", "Localhost"}

type_keys := ["securityContext", "seccompProfile", "type"]

# The profile type the pod sets, "" when none.
pod_type := object.get(k8s.pod_spec, type_keys, "")

# seccomp is a Linux feature: pods that declare another OS are out of scope.
linux if object.get(k8s.pod_spec, ["os", "name"], "linux") == "linux"

# A container-level profile overrides the pod's.
container_type(c) := object.get(c, type_keys, "")

effective_type(c) := container_type(c) if container_type(c) != ""

effective_type(c) := pod_type if container_type(c) == ""

# The container sets a profile of its own that is not confining (Unconfined): only the
# container-level field can fix it.
violation contains {
	"msg": concat("", [k8s.describe(entry), " of ", k8s.workload, " sets securityContext.seccompProfile.type: ", text.str(container_type(entry.container))]),
	"path": path,
	"fix": [{"op": "replace", "path": path, "value": "RuntimeDefault"}],
} if {
	linux
	some entry in k8s.containers
	container_type(entry.container) != ""
	not container_type(entry.container) in confined_types
	path := patch.pointer(entry.pointer, type_keys)
}

# The container inherits the pod's profile, which is absent or Unconfined: set it on the pod.
# Every such container carries the same pod-level operation.
violation contains {
	"msg": concat("", [k8s.describe(entry), " of ", k8s.workload, " has no RuntimeDefault or Localhost seccomp profile (", text.str(pod_reason), ")"]),
	"path": inherited_path(entry),
	"fix": patch.set(k8s.pod_spec, k8s.pod_spec_pointer, type_keys, "RuntimeDefault"),
} if {
	linux
	some entry in k8s.containers
	container_type(entry.container) == ""
	not pod_type in confined_types
}

pod_reason := "neither the pod nor the container sets securityContext.seccompProfile" if pod_type == ""

pod_reason := concat("", ["the pod sets securityContext.seccompProfile.type: ", text.str(pod_type)]) if pod_type != ""

# The pod's own field when it sets one, else the container (the closest existing parent).
inherited_path(_) := patch.pointer(k8s.pod_spec_pointer, type_keys) if pod_type != ""

inherited_path(entry) := entry.pointer if pod_type == ""
