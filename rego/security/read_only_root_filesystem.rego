# METADATA
# title: Writable root filesystem
# description: >-
#   Containers should mount their root filesystem read-only, so an attacker who gains execution cannot drop binaries
#   or rewrite the application. Writable paths belong in volumes (emptyDir for scratch space).
# custom:
#   id: read-only-root-filesystem
#   category: security
#   severity: medium
#   frameworks:
#     SOC2: ["CC6.8"]
#     HIPAA: ["164.312(a)(1)"]
#     PCI-DSS: ["2.2.1", "2.2.6"]
#     ISO27001: ["A.8.9"]
#     CIS: ["5.7.3"]
#     NSA-CISA: ["Pod security: immutable container file systems"]
#   remediation: Set securityContext.readOnlyRootFilesystem to true and mount an emptyDir volume wherever the application writes.
#   fix:
#     risk: high
package kubepolicy.security.read_only_root_filesystem

import data.lib.kubernetes as k8s
import data.lib.patch

keys := ["securityContext", "readOnlyRootFilesystem"]

# High risk: an application that writes outside its volumes fails once the root filesystem is read-only.
violation contains {
	"msg": concat("", [k8s.describe(entry), " of ", k8s.workload, " does not set securityContext.readOnlyRootFilesystem: true"]),
	"path": located(entry.container, entry.pointer, keys),
	"fix": patch.set(entry.container, entry.pointer, keys, true),
} if {
	not k8s.windows
	some entry in k8s.containers
	not entry.container.securityContext.readOnlyRootFilesystem == true
}

# JSON Pointer of the field when it is set, else of its closest existing parent.
located(obj, base, path) := patch.pointer(base, array.slice(path, 0, depth)) if {
	depth := max({i |
		some i in numbers.range(0, count(path))
		object.get(obj, array.slice(path, 0, i), null) != null
	})
}
