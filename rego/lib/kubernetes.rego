# METADATA
# title: Kubernetes object helpers
# description: >-
#   Workload kinds, their pod templates and containers, addressed both as values and as
#   JSON Pointers so rules can name the offending field and compute JSON Patch fixes.
package lib.kubernetes

# The object under evaluation.
obj := input.object

kind := obj.kind

name := obj.metadata.name

namespace := object.get(obj.metadata, "namespace", "default")

# (Kinds are tested with one rule body per kind rather than a set membership test: a set literal
# is built and hashed on every evaluation in WebAssembly, and these rules run for every object.)
is_workload if kind == "Pod"

is_workload if kind == "CronJob"

is_workload if templated

# Kinds with the pod template at spec.template.
templated if kind == "Deployment"

templated if kind == "StatefulSet"

templated if kind == "DaemonSet"

templated if kind == "ReplicaSet"

templated if kind == "Job"

# Kinds whose pods are expected to run to completion: no probes, no replicas.
is_batch if kind == "Job"

is_batch if kind == "CronJob"

# Kinds with a spec.replicas field.
is_replicated if kind == "Deployment"

is_replicated if kind == "StatefulSet"

is_replicated if kind == "ReplicaSet"

# JSON Pointer of the pod spec inside the object.
pod_spec_pointer := "/spec" if kind == "Pod"

pod_spec_pointer := "/spec/jobTemplate/spec/template/spec" if kind == "CronJob"

pod_spec_pointer := "/spec/template/spec" if templated

# JSON Pointer of the pod metadata inside the object.
pod_metadata_pointer := "/metadata" if kind == "Pod"

pod_metadata_pointer := "/spec/jobTemplate/spec/template/metadata" if kind == "CronJob"

pod_metadata_pointer := "/spec/template/metadata" if templated

pod_spec := obj.spec if kind == "Pod"

pod_spec := obj.spec.jobTemplate.spec.template.spec if kind == "CronJob"

pod_spec := obj.spec.template.spec if templated

pod_metadata := object.get(obj, "metadata", {}) if kind == "Pod"

pod_metadata := object.get(obj.spec.jobTemplate.spec.template, "metadata", {}) if kind == "CronJob"

pod_metadata := object.get(obj.spec.template, "metadata", {}) if templated

# Labels of the pods this workload runs (what selectors of NetworkPolicies, PDBs, ServiceMonitors see).
pod_labels := object.get(pod_metadata, "labels", {})

pod_annotations := object.get(pod_metadata, "annotations", {})

labels := object.get(obj.metadata, "labels", {})

annotations := object.get(obj.metadata, "annotations", {})

container_fields := {
	"containers": "container",
	"initContainers": "initContainer",
	"ephemeralContainers": "ephemeralContainer",
}

# Every container of the pod, init and ephemeral ones included, with its JSON Pointer.
# Each entry: {"container": <container>, "name": <name>, "type": container|initContainer|ephemeralContainer, "pointer": "/spec/.../containers/0"}
# (Arrays, not sets: a set hashes every entry, i.e. every whole container, on every evaluation.)
containers := array.concat(array.concat(entries("containers", "container"), entries("initContainers", "initContainer")), entries("ephemeralContainers", "ephemeralContainer"))

entries(field, type) := [entry |
	some i, c in object.get(pod_spec, field, [])
	entry := {
		"container": c,
		"name": object.get(c, "name", concat("", ["#", format_int(i, 10)])),
		"type": type,
		"pointer": concat("/", [pod_spec_pointer, field, format_int(i, 10)]),
	}
]

default containers := []

# The long-running containers only (probes and resources apply to these; init and ephemeral ones excluded).
app_containers := entries("containers", "container")

default app_containers := []

# Containers that run in the pod's lifetime with resources (regular and init; ephemeral ones take no resources).
resourced_containers := array.concat(entries("containers", "container"), entries("initContainers", "initContainer"))

default resourced_containers := []

# Human label for a container in messages: `container "web"`, `init container "setup"`.
# (concat rather than sprintf: these run on every finding, and sprintf is a host call in WebAssembly.)
container_words := {"container": "container", "initContainer": "init container", "ephemeralContainer": "ephemeral container"}

describe(entry) := concat("", [container_words[entry.type], " \"", entry.name, "\""])

# Human label for the workload: `Deployment "web"`.
workload := concat("", [kind, " \"", name, "\""])

# Desired replicas of a replicated workload (Kubernetes defaults an omitted field to 1).
replicas := object.get(obj.spec, "replicas", 1) if is_replicated

# Windows pods: Linux-only security settings (capabilities, allowPrivilegeEscalation, seccomp, SELinux) are
# forbidden by the API server there, so rules about them stay quiet and fixes never set them.
windows if pod_spec.os.name == "windows"

volumes := object.get(pod_spec, "volumes", [])

# Names of the PersistentVolumeClaims the pod mounts, with the volume's pointer.
pvc_volumes contains {"claim": v.persistentVolumeClaim.claimName, "volume": v.name, "pointer": concat("/", [pod_spec_pointer, "volumes", format_int(i, 10)])} if {
	some i, v in volumes
	v.persistentVolumeClaim.claimName
}

# Volume claim templates of a StatefulSet count as PVC volumes too.
pvc_volumes contains {"claim": t.metadata.name, "volume": t.metadata.name, "pointer": concat("/", ["/spec/volumeClaimTemplates", format_int(i, 10)]), "template": t} if {
	kind == "StatefulSet"
	some i, t in object.get(obj.spec, "volumeClaimTemplates", [])
}

has_pvc_volumes if count(pvc_volumes) > 0

# True when the named context facts were provided (an empty list counts: it means none exist).
# An absent key means the facts could not be known, and rules that need them say "not evaluated".
known(key) if is_array(input.context[key])

context_list(key) := input.context[key] if known(key)

default context_list(_) := []
