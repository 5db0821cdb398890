# METADATA
# title: Capabilities not dropped
# description: >-
#   Containers should drop every Linux capability (capabilities.drop: ["ALL"]) and add back only what they need;
#   otherwise they keep the container runtime's default set, which includes NET_RAW, CHOWN and SETUID.
# custom:
#   id: drop-all-capabilities
#   category: security
#   severity: medium
#   frameworks:
#     SOC2: ["CC6.1", "CC6.8"]
#     HIPAA: ["164.312(a)(1)"]
#     PCI-DSS: ["2.2.1", "2.2.6"]
#     ISO27001: ["A.8.2", "A.8.9"]
#     CIS: ["5.2.10"]
#     NSA-CISA: ["Pod security: pod security enforcement"]
#   remediation: Add "ALL" to securityContext.capabilities.drop and list the capabilities the application needs in capabilities.add.
#   fix:
#     risk: medium
package kubepolicy.security.drop_all_capabilities

import data.lib.kubernetes as k8s
import data.lib.patch

keys := ["securityContext", "capabilities", "drop"]

violation contains {
	"msg": concat("", [k8s.describe(entry), " of ", k8s.workload, " does not drop ALL capabilities (securityContext.capabilities.drop)"]),
	"path": located(entry.container, entry.pointer, keys),
	"fix": fix(entry),
} if {
	not k8s.windows
	some entry in k8s.containers
	not drops_all(entry.container)
}

drops_all(container) if {
	some cap in container.securityContext.capabilities.drop
	is_string(cap)
	upper(cap) == "ALL"
}

has_drop_list(container) if is_array(container.securityContext.capabilities.drop)

# Append to an existing list; otherwise create the list (and its missing parents).
fix(entry) := [{"op": "add", "path": patch.pointer(entry.pointer, array.concat(keys, ["-"])), "value": "ALL"}] if {
	has_drop_list(entry.container)
}

fix(entry) := patch.set(entry.container, entry.pointer, keys, ["ALL"]) if not has_drop_list(entry.container)

# JSON Pointer of the field when it is set, else of its closest existing parent.
located(obj, base, path) := patch.pointer(base, array.slice(path, 0, depth)) if {
	depth := max({i |
		some i in numbers.range(0, count(path))
		object.get(obj, array.slice(path, 0, i), null) != null
	})
}
