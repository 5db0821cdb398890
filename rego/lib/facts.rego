# METADATA
# title: Facts for custom rules
# description: >-
#   Derived facts that JSON custom rules read with field paths under "facts." (facts.networkIsolated,
#   facts.volumes[*].encrypted, facts.containers[*].image). A fact that cannot be known (its context
#   is missing) is absent, and a rule that reads it is reported as not evaluated.
package lib.facts

import data.kubepolicy.compliance.encrypted_volumes as ev
import data.kubepolicy.security.network_policy as np
import data.lib.kubernetes as k8s

# Whether a NetworkPolicy with ingress rules in the namespace selects the workload's pods.
values["networkIsolated"] := count(np.violation) == 0 if k8s.known("networkPolicies")

# Every container of the pod (init and ephemeral too), whatever the workload kind.
values["containers"] := [entry.container | some entry in k8s.containers]

values["podSpec"] := k8s.pod_spec

values["podLabels"] := k8s.pod_labels

values["kind"] := k8s.kind

values["namespace"] := k8s.namespace

# Each volume backed by a PersistentVolumeClaim: {name, claim, storageClass, encrypted}. Known only when
# every one of them resolves to a StorageClass in the context.
values["volumes"] := resolved if {
	# In the order of the pod spec (volume pointers sort by index within their list).
	resolved := [fact |
		some pointer in sort([v.pointer | some v in ev.pvc_backed_volumes])
		some volume in ev.pvc_backed_volumes
		volume.pointer == pointer
		fact := volume_fact(volume)
	]
	count(resolved) == count(ev.pvc_backed_volumes)
	every key in ev.needed {
		k8s.known(key)
	}
}

volume_fact(volume) := {"name": volume.name, "claim": volume.claim, "storageClass": class.name, "encrypted": is_encrypted(storage_class), "pointer": volume.pointer} if {
	class := ev.class_of(ev.claim_of(volume))
	storage_class := ev.storage_class(class.name)
}

is_encrypted(storage_class) if ev.encrypted(storage_class)

is_encrypted(storage_class) := false if not ev.encrypted(storage_class)
